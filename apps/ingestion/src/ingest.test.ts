import { create } from '@bufbuild/protobuf';
import { status } from '@orrery/grpc';
import { EventSchema, EventType, TrackRequestSchema, type Event, type TrackRequest } from '@orrery/proto';
import type { CommandGateway } from './command-gateway';
import { trackBatch, trackStream, type IngestDependencies } from './ingest';
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

describe('TrackBatch with the traceparents of its events', () => {
  /** A command side recording each append's event ids and the traceparents they carry. */
  function recordingCommands() {
    const appends: { eventIds: string[]; traceparents: readonly string[] | undefined }[] = [];
    const gateway: CommandGateway = {
      appendEvents: async (events, _timeoutMs, merged) => {
        appends.push({ eventIds: events.map((event) => event.eventId), traceparents: merged?.traceparents });
        return events.map(() => false);
      },
      upsertItems: async () => 0,
      upsertUsers: async () => 0,
      deleteItem: async () => false,
      forgetUser: async () => 0,
    };
    return { deps: { commands: gateway, defaults: () => ({ now: Date.now(), newEventId: () => 'generated' }) } satisfies IngestDependencies, appends };
  }
  const view = (eventId: string, userId = 'u-1') => create(EventSchema, { eventId, userId, itemId: 'i-1', type: EventType.VIEW });
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('when each event has a traceparent, the valid ones go to command with theirs, the refused ones without', async () => {
    const { deps, appends } = recordingCommands();
    const response = await trackBatch(deps, { events: [view('a'), view('refused', ''), view('c')], traceparents: [TRACEPARENT, TRACEPARENT, ''] }, 1_000);
    expect(response).toMatchObject({ accepted: 2, rejected: [{ index: 1 }] });
    expect(appends).toEqual([{ eventIds: ['a', 'c'], traceparents: [TRACEPARENT, ''] }]);
  });

  it('when no event has a traceparent of its own, the events go in the request trace alone', async () => {
    const { deps, appends } = recordingCommands();
    await trackBatch(deps, { events: [view('a'), view('b')], traceparents: [] }, 1_000);
    await trackBatch(deps, { events: [view('c')], traceparents: [''] }, 1_000);
    expect(appends).toEqual([
      { eventIds: ['a', 'b'], traceparents: undefined },
      { eventIds: ['c'], traceparents: undefined },
    ]);
  });

  it('when the traceparents are not one per event, or one is too long, the batch is refused whole and nothing is sent', async () => {
    const { deps, appends } = recordingCommands();
    await expect(trackBatch(deps, { events: [view('a'), view('b')], traceparents: [TRACEPARENT] }, 1_000)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: 'traceparents: 1 for 2 events (none, or one per event)',
    });
    await expect(trackBatch(deps, { events: [view('a')], traceparents: ['x'.repeat(LIMITS.traceparentLength + 1)] }, 1_000)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: `traceparents[0]: at most ${LIMITS.traceparentLength} characters`,
    });
    expect(appends).toEqual([]);
  });
});
