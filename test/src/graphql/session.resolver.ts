import { Args, Field, Int, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Session, SessionService } from '../../../lib';

type Data = { user?: string; views?: number };

/** What the suites read back from a resolver: the session as the resolver saw it. */
@ObjectType()
export class SessionView {
  @Field(() => String, { nullable: true })
  id!: string | null;

  @Field(() => String, { nullable: true })
  user!: string | null;

  @Field(() => Int, { nullable: true })
  views!: number | null;

  /** Whether `SessionService.current()` is the very object `@Session()` gave the resolver. */
  @Field()
  sameAsService!: boolean;
}

/** One field per thing the GraphQL suites do to a session. */
@Resolver()
export class SessionResolver {
  constructor(private readonly sessions: SessionService) {}

  @Query(() => SessionView)
  me(@Session() session: Session<Data> | undefined): SessionView {
    return this.view(session);
  }

  /** The seed's counter, as a mutation: written back at the end of the HTTP request. */
  @Mutation(() => SessionView)
  count(@Session() session: Session<Data>): SessionView {
    session.views = (session.views ?? 0) + 1;
    return this.view(session);
  }

  /** Logs in as a connect app would: a new id for the signed-in session, then the user. */
  @Mutation(() => SessionView)
  async logIn(@Args('user') user: string, @Session() session: Session<Data>): Promise<SessionView> {
    // Through the service without the session: proves it finds the request's session here.
    await this.sessions.regenerate();
    session.user = user;
    return this.view(session);
  }

  @Mutation(() => Boolean)
  async logOut(@Session() session: Session<Data>): Promise<boolean> {
    await session.destroy();
    return true;
  }

  private view(session: Session<Data> | undefined): SessionView {
    return {
      id: session?.id ?? null,
      user: session?.user ?? null,
      views: session?.views ?? null,
      sameAsService: session !== undefined && this.sessions.current() === session,
    };
  }
}
