// Nest 12 ships ES modules only; Jest's CommonJS loader needs them transformed too, so
// @nestjs/* in node_modules goes through swc like our own sources. So do the ES-only packages
// Mercurius loads: content-disposition (through @fastify/static) and quick-lru.
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs/|@fastify/static/node_modules/content-disposition/|content-disposition/|mercurius/|quick-lru/))',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  projects: [
    {
      ...shared,
      displayName: 'nest12',
      roots: ['<rootDir>/lib', '<rootDir>/test'],
      testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/nest11/'],
    },
    {
      // The smoke run on Nest 11 (CommonJS): the same sources, with every @nestjs/* import
      // answered by the Nest 11 copies installed under the @nest11/ alias.
      ...shared,
      displayName: 'nest11',
      roots: ['<rootDir>/test/nest11'],
      testMatch: ['**/*.e2e-spec.ts'],
      moduleNameMapper: {
        '^@nestjs/(common|core|platform-express|testing)(/.*)?$':
          '<rootDir>/node_modules/@nest11/$1$2',
      },
    },
  ],
};
