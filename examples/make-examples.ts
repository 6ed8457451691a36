/**
 * Writes the two example tasks for stories260K (a TinyStories model) as JSONL:
 *   feelings/  "Lily got a new toy. She felt" → " happy" | " sad"   (one-word sentiment label)
 *   names/     `Lily had a dog. She saw a big tree. "What is your name?" asked the dog. "My name is` → " Lily"
 *              (copy the character's name from the story)
 * Lines are enumerated from fixed templates (no randomness) and split into train and held-out
 * eval by a fixed rule on the template indices, so every run writes the same, disjoint files.
 * Run: npx tsx examples/make-examples.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Example {
  input: string;
  output: string;
}

/** Which template pieces produced an example; the held-out split is a rule on these. */
interface Row {
  example: Example;
  key: [number, number, number];
}

interface Character {
  name: string;
  pronoun: 'He' | 'She';
}

const characters: Character[] = [
  ...['Lily', 'Sue', 'Anna', 'Mia', 'Lucy', 'Amy'].map((name): Character => ({ name, pronoun: 'She' })),
  ...['Tim', 'Ben', 'Max', 'Tom', 'Sam', 'Jack'].map((name): Character => ({ name, pronoun: 'He' })),
];

const happyEvents = [
  'got a new toy',
  'found a big red ball',
  'ate a yummy cake',
  'played with a good friend',
  'saw a pretty rainbow',
  'got a hug from mom',
  'won the race at the park',
  'made a new friend',
  'got a sweet candy',
  'went to the beach with dad',
  'found a shiny coin',
  'had a fun day at the park',
];

const sadEvents = [
  'lost a favorite toy',
  'fell down and got hurt',
  'broke the new toy',
  'could not find mom',
  'dropped the ice cream',
  'had no friend to play with',
  'got lost in the big park',
  'saw a bird get hurt',
  'lost the red ball',
  'had to stay inside all day',
  'spilled the milk on the floor',
  'could not go to the park',
];

function feelings(): Row[] {
  const templates = [
    (c: Character, e: string) => `${c.name} ${e}. ${c.pronoun} felt`,
    (c: Character, e: string) => `${c.name} ${e}. ${c.name} was very`,
  ];
  const out: Row[] = [];
  characters.forEach((c, ci) =>
    [happyEvents, sadEvents].forEach((events, label) =>
      events.forEach((e, ei) =>
        templates.forEach((t, ti) =>
          out.push({ example: { input: t(c, e), output: label === 0 ? ' happy' : ' sad' }, key: [ci, ei + 12 * label, ti] }),
        ),
      ),
    ),
  );
  return out;
}

const pets = ['dog', 'cat', 'bird', 'fish', 'bunny', 'frog'];
const sights = ['a big tree', 'a red car', 'a little bug', 'a pretty flower', 'a funny hat', 'a shiny star'];

function names(): Row[] {
  const out: Row[] = [];
  characters.forEach((c, ci) =>
    pets.forEach((pet, pi) =>
      sights.forEach((sight, si) => {
        const input = `${c.name} had a ${pet}. ${c.pronoun} saw ${sight}. "What is your name?" asked the ${pet}. "My name is`;
        out.push({ example: { input, output: ` ${c.name}` }, key: [ci, pi, si] });
      }),
    ),
  );
  return out;
}

/** Held out: one combination in seven, chosen by a fixed rule so that every name and event occurs in both files. */
function split(rows: Row[], maxTrain: number): { train: Example[]; eval: Example[] } {
  const train: Example[] = [];
  const evalRows: Example[] = [];
  for (const {
    example,
    key: [a, b, c],
  } of rows)
    ((a * 3 + b * 5 + c) % 7 === 0 ? evalRows : train).push(example);
  // keep every k-th training line to stay near maxTrain; order is irrelevant (the trainer shuffles)
  const stride = Math.max(1, Math.ceil(train.length / maxTrain));
  return { train: train.filter((_, i) => i % stride === 0), eval: evalRows };
}

const toJsonl = (rows: Example[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

const here = path.dirname(fileURLToPath(import.meta.url));
for (const [task, rows, maxTrain] of [
  ['feelings', feelings(), 500],
  ['names', names(), 400],
] as const) {
  const { train, eval: evalRows } = split(rows, maxTrain);
  mkdirSync(path.join(here, task), { recursive: true });
  writeFileSync(path.join(here, task, 'train.jsonl'), toJsonl(train));
  writeFileSync(path.join(here, task, 'eval.jsonl'), toJsonl(evalRows));
  process.stdout.write(`${task}: ${train.length} train, ${evalRows.length} eval\n`);
}
