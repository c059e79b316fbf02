import { useState } from 'preact/hooks';
import type { LinealClient } from '../../../../clients/typescript/index.js';
import { type Schemas, unwrap } from '../api.js';
import { childName, ErrorNotice, Loading, OfflineNotice, StepList } from '../components.js';
import { useApp } from '../context.js';
import { href } from '../router.js';
import { cacheGet } from '../storage.js';
import { useLoad } from '../use-load.js';
import type { UnitWithRounds } from './Home.js';
import { ParentNotices } from './ParentNotices.js';

interface Who {
  name: string;
  roundId?: string;
  unitId: string;
}

interface WorklistData {
  items: Schemas['WorklistItem'][];
  children: Record<string, Who>;
}

/**
 * The children's names for items of the caller's units: from the open rounds' rosters (already
 * on the device), the rest one by one.
 */
async function childNames(
  api: LinealClient,
  items: readonly { childId: string; unitId: string }[],
): Promise<Record<string, Who>> {
  const children: Record<string, Who> = {};
  const home = await cacheGet<UnitWithRounds[]>('home');
  for (const { unit, rounds } of home?.data ?? []) {
    for (const { round, roster } of rounds) {
      for (const c of roster?.children ?? []) {
        children[c.childId] = { name: childName(c), roundId: round.id, unitId: unit.id };
      }
    }
  }
  for (const item of items) {
    if (children[item.childId]) continue;
    const child = unwrap(
      await api.GET('/v1/children/{childId}', { params: { path: { childId: item.childId } } }),
    );
    children[item.childId] = { name: childName(child), unitId: item.unitId };
  }
  return children;
}

/** Open steps in the caller's units (the API scopes them), with the children's names. */
async function fetchWorklist(api: LinealClient, overdue: boolean): Promise<WorklistData> {
  const page = unwrap(
    await api.GET('/v1/worklist', {
      params: { query: { limit: 200, ...(overdue ? { overdue: 'true' as const } : {}) } },
    }),
  );
  return { items: page.items, children: await childNames(api, page.items) };
}

export function Worklist() {
  const { api, i18n, revision } = useApp();
  const t = i18n.t;
  const [overdue, setOverdue] = useState(false);
  const state = useLoad(`worklist:${overdue}`, () => fetchWorklist(api, overdue), [
    overdue,
    revision,
  ]);
  return (
    <main id="main">
      <h1>{t('worklist.title')}</h1>
      <p class="hint">{t('worklist.intro')}</p>
      <label class="check">
        <input
          type="checkbox"
          checked={overdue}
          onChange={(e) => setOverdue(e.currentTarget.checked)}
        />
        <span>{t('worklist.onlyOverdue')}</span>
      </label>
      <ParentNotices
        overdue={overdue}
        names={async (items) =>
          Object.fromEntries(
            Object.entries(await childNames(api, items)).map(([id, who]) => [id, who.name]),
          )
        }
      />
      {state.status === 'loading' ? <Loading /> : null}
      {state.status === 'error' ? <ErrorNotice error={state.error} /> : null}
      {state.status === 'ready' ? (
        <>
          {state.offline ? <OfflineNotice storedAt={state.storedAt} /> : null}
          {state.data.items.length === 0 ? <p>{t('worklist.empty')}</p> : null}
          {groupByChild(state.data.items).map(([childId, steps]) => {
            const who = state.data.children[childId];
            const name = who?.name ?? childId.slice(0, 8);
            return (
              <section class="panel" key={childId} aria-label={name}>
                <h2>
                  {who?.roundId ? (
                    <a
                      href={href({
                        name: 'child',
                        roundId: who.roundId,
                        unitId: who.unitId,
                        childId,
                      })}
                    >
                      {name}
                    </a>
                  ) : (
                    name
                  )}
                </h2>
                <StepList steps={steps} label={name} />
              </section>
            );
          })}
        </>
      ) : null}
    </main>
  );
}

function groupByChild(items: Schemas['WorklistItem'][]): [string, Schemas['WorklistItem'][]][] {
  const groups = new Map<string, Schemas['WorklistItem'][]>();
  for (const item of items) {
    const list = groups.get(item.childId) ?? [];
    list.push(item);
    groups.set(item.childId, list);
  }
  return [...groups.entries()];
}
