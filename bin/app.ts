#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildDemoApp } from './demo-app';

buildDemoApp(new App());
