import { create } from '@bufbuild/protobuf';
import { status } from '@orrery/grpc';
import { EventType, TrackRequestSchema, type Event, type TrackRequest } from '@orrery/proto';
import type { CommandGateway } from './command-gateway';
import { trackStream, type IngestDependencies } from './ingest';
import { LIMITS } from './validation';

/** A command side whose appends commit a few milliseconds after they are sent, counting what committed. */
function slowCommands(): { gateway: CommandGateway; committed: () => number } {
  let committed = 0;
  const gateway: CommandGateway = {
    appendEvents: (events: readonly Event[]) =>
      new Promise((resolve) =>
        setTimeout(() => {
          committed += events.length;
          resolve(events.map(() => false));
        }, 5),
      ),
    upsertItems: async () => 0,
    upsertUsers: async () => 0,
    deleteItem: async () => false,
    forgetUser: async () => 0,
  };
  return { gateway, committed: () => committed };
}

async function* stream(count: number, invalidEvery: number): AsyncGenerator<TrackRequest> {
  for (let index = 0; index < count; index++) {
    const userId = index % invalidEvery === 0 ? '' : `u-${index % 50}`;
    yield create(TrackRequestSchema, { event: { eventId: `e-${index}`, userId, itemId: 'i-1', type: EventType.VIEW } });
  }
}

describe('TrackStream over the limit', () => {
  it('when a stream holds one event more than the limit, the refusal comes once the events before it are committed and says how many were stored', async () => {
    const commands = slowCommands();
    const deps: IngestDependencies = { commands: commands.gateway, defaults: () => ({ now: Date.now(), newEventId: () => 'generated' }) };
    const refused = LIMITS.stream / 1_000;
    const stored = LIMITS.stream - refused;

    const outcome = trackStream(deps, stream(LIMITS.stream + 1, 1_000), () => 1_000);

    await expect(outcome).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: `events: at most ${LIMITS.stream} per stream: events[0..${LIMITS.stream - 1}] were handled (${stored} stored, ${refused} refused), events[${LIMITS.stream}] onwards were not; send those in another stream`,
    });
    expect(commands.committed()).toBe(stored);
  });
});
