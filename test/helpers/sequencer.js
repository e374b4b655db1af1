// jest testSequencer: the order test files start in.
//
// jest starts the slowest files first, by the durations it cached on the last run; on a fresh clone there is no cache,
// and it falls back to file size. A group (test/suites-*.test.ts) is a few lines of require()s of the suites it runs,
// so by its own size it would start last and finish long after the rest. Here, without a cache, the groups start
// first, in the order below, and the other files follow by size. With a cache, jest's own order is kept.
const fs = require('fs');
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;

/** The groups, the one that takes the longest first. */
const GROUPS = ['suites-staged.test.ts', 'suites-release.test.ts', 'suites-example.test.ts'];

function rank(test) {
  const group = GROUPS.indexOf(path.basename(test.path));
  return group >= 0 ? group : GROUPS.length;
}

module.exports = class GroupsFirst extends Sequencer {
  sort(tests) {
    if (tests.every((test) => this.time(test) != null)) return super.sort(tests);
    const size = (test) => fs.statSync(test.path).size;
    return [...tests].sort((a, b) => rank(a) - rank(b) || size(b) - size(a));
  }
};
