// Shared jest configuration: TypeScript through SWC, workspace packages mapped to their sources so
// tests need no prior build.
const path = require('node:path');

/** Returns the jest config of the project rooted at `projectDir`. */
module.exports = function jestConfig(projectDir, overrides = {}) {
  const workspaceRoot = path.resolve(__dirname, '../..');
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
      ],
    },
    moduleNameMapper: {
      '^@orrery/([a-z-]+)$': `${workspaceRoot}/libs/$1/src/index.ts`,
    },
    testTimeout: 60_000,
    ...overrides,
  };
};
