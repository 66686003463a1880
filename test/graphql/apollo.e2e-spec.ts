import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { describeGraphQLSessions } from './graphql.suite';

/**
 * Apollo Server 5 reaches Express through `@as-integrations/express5`, which @nestjs/apollo
 * loads when the app starts. Until it is installed this suite is reported as skipped, by name,
 * rather than failing on a missing package that has nothing to do with sessions.
 */
const integration = '@as-integrations/express5';
const installed = (() => {
  try {
    require.resolve(integration);
    return true;
  } catch {
    return false;
  }
})();

(installed ? describe : describe.skip)(
  `GraphQL: Apollo on Express${installed ? '' : ` (skipped: ${integration} is not installed)`}`,
  () => {
    // No context option at all: the Apollo driver puts the Express request in the context as `req`.
    describeGraphQLSessions('with the default context', 'express', () =>
      GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
    );

    // The line older guides tell you to write: the same result.
    describeGraphQLSessions('with context: ({ req }) => ({ req })', 'express', () =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        context: ({ req }: { req: unknown }) => ({ req }),
      }),
    );

    // An app's own context that says nothing of the request: the driver still adds `req`.
    describeGraphQLSessions('with a context of the app’s own', 'express', () =>
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        context: () => ({ locale: 'en' }),
      }),
    );
  },
);
