import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { describeGraphQLSessions } from './graphql.suite';

describe('GraphQL: Mercurius on Fastify', () => {
  // No context option at all: the Mercurius driver puts the Fastify request in the context as `req`.
  describeGraphQLSessions('with the default context', 'fastify', () =>
    GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true }),
  );

  // An app's own context that says nothing of the request: the driver still adds `req`.
  describeGraphQLSessions('with a context of the app’s own', 'fastify', () =>
    GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      context: () => ({ locale: 'en' }),
    }),
  );
});
