import { status } from './errors';
import { InFlightBudget } from './in-flight-budget';

/** A budget of `capacity` events whose refusals say how full it was and how long the caller waited. */
function budgetOf(capacity: number, waitMs: number): InFlightBudget {
  return new InFlightBudget(capacity, waitMs, ({ inFlight, capacity: of, waitedMs }) => `in-flight budget (${inFlight} of ${of} events awaiting commit; waited ${waitedMs} ms)`);
}

function gate(): { readonly open: () => void; readonly opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('in-flight budget', () => {
  it('when work fits the budget, it runs at once and its events count until it ends', async () => {
    const budget = budgetOf(100, 1_000);
    const first = gate();
    const running = budget.run(60, () => first.opened);
    expect(budget.inFlight).toBe(60);
    first.open();
    await running;
    expect(budget.inFlight).toBe(0);
  });

  it('when the budget is full, a caller waits and runs once room is released', async () => {
    const budget = budgetOf(100, 5_000);
    const first = gate();
    const holding = budget.run(80, () => first.opened);
    const order: string[] = [];
    const waiting = budget.run(50, async () => void order.push('second ran'));
    await Promise.resolve();
    expect(order).toEqual([]);
    first.open();
    await Promise.all([holding, waiting]);
    expect(order).toEqual(['second ran']);
  });

  it('when no room frees up in time, the caller gets RESOURCE_EXHAUSTED saying why, and nothing of it ran', async () => {
    const budget = budgetOf(100, 20);
    const first = gate();
    const holding = budget.run(100, () => first.opened);
    let ran = false;
    await expect(budget.run(1, async () => void (ran = true))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      message: expect.stringContaining('in-flight budget (100 of 100 events awaiting commit'),
    });
    expect(ran).toBe(false);
    first.open();
    await holding;
    expect(budget.inFlight).toBe(0);
  });

  it('when one batch is larger than the whole budget, it runs alone instead of never', async () => {
    const budget = budgetOf(10, 1_000);
    expect(await budget.run(25, async () => 'done')).toBe('done');
  });

  it('when work fails, its events are released', async () => {
    const budget = budgetOf(10, 1_000);
    await expect(budget.run(10, async () => Promise.reject(new Error('command down')))).rejects.toThrow('command down');
    expect(budget.inFlight).toBe(0);
  });
});
