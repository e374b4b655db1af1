// Runs in-process code as if inside a Lambda function: the two variables the runtime reads about itself are set for
// the duration of `run` and restored after it (set or unset, as they were).

/** The function's name and version, as Lambda sets them (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION). */
export async function asLambdaFunction<T>(name: string, version: string, run: () => Promise<T>): Promise<T> {
  const saved = { AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION: process.env.AWS_LAMBDA_FUNCTION_VERSION };
  process.env.AWS_LAMBDA_FUNCTION_NAME = name;
  process.env.AWS_LAMBDA_FUNCTION_VERSION = version;
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
