/**
 * Hash routes (#/round/…): the app is one page, so a round of 25 children is never 25 page
 * loads, and the service worker serves the same shell for every screen.
 */
import { useEffect, useState } from 'preact/hooks';

/** A child in a round and unit: where the assess and child screens are. */
export interface ChildRef {
  roundId: string;
  unitId: string;
  childId: string;
}

export type Route =
  | { name: 'home' }
  | { name: 'roster'; roundId: string; unitId: string }
  | ({ name: 'assess' } & ChildRef)
  | ({ name: 'child' } & ChildRef)
  | { name: 'worklist' }
  | { name: 'outbox' };

const ID = '([0-9a-fA-F-]{36})';
const patterns: [RegExp, (m: string[]) => Route][] = [
  [
    new RegExp(`^/round/${ID}/unit/${ID}$`),
    (m) => ({ name: 'roster', roundId: m[1] as string, unitId: m[2] as string }),
  ],
  [
    new RegExp(`^/round/${ID}/unit/${ID}/child/${ID}/assess$`),
    (m) => ({
      name: 'assess',
      roundId: m[1] as string,
      unitId: m[2] as string,
      childId: m[3] as string,
    }),
  ],
  [
    new RegExp(`^/round/${ID}/unit/${ID}/child/${ID}$`),
    (m) => ({
      name: 'child',
      roundId: m[1] as string,
      unitId: m[2] as string,
      childId: m[3] as string,
    }),
  ],
  [/^\/worklist$/, () => ({ name: 'worklist' })],
  [/^\/outbox$/, () => ({ name: 'outbox' })],
];

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  for (const [pattern, build] of patterns) {
    const match = pattern.exec(path);
    if (match) return build(match);
  }
  return { name: 'home' };
}

export function href(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'roster':
      return `#/round/${route.roundId}/unit/${route.unitId}`;
    case 'assess':
      return `#/round/${route.roundId}/unit/${route.unitId}/child/${route.childId}/assess`;
    case 'child':
      return `#/round/${route.roundId}/unit/${route.unitId}/child/${route.childId}`;
    case 'worklist':
      return '#/worklist';
    case 'outbox':
      return '#/outbox';
  }
}

export function navigate(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
