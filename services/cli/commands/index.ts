import type { Command } from 'commander';

/** Each command module adds its commands to the program. */
export type RegisterCommands = (program: Command) => void;

/**
 * The command modules and the top-level commands each adds. A command line loads only the modules
 * of its command, so `ptune prompts list` never loads onnxruntime, Prisma, PGlite or the AWS SDK
 * (start-up: bench/cli/startup.ts). Add new modules here; index.test.ts checks the names.
 */
export interface CommandModule {
  readonly commands: readonly string[];
  load(): Promise<RegisterCommands>;
}

export const commandModules: readonly CommandModule[] = [
  { commands: ['tune', 'eval', 'generate', 'models'], load: async () => (await import('./engine.js')).registerEngineCommands },
  { commands: ['serve', 'migrate'], load: async () => (await import('./serve.js')).registerServeCommands },
  { commands: ['infer'], load: async () => (await import('./infer.js')).registerInferCommands },
  { commands: ['score'], load: async () => (await import('./score.js')).registerScoreCommands },
  { commands: ['models', 'prompts', 'alias'], load: async () => (await import('./registry.js')).registerRegistryCommands },
  { commands: ['train'], load: async () => (await import('./train.js')).registerTrainCommands },
  { commands: ['jobs'], load: async () => (await import('./jobs.js')).registerJobsCommands },
  { commands: ['jobs'], load: async () => (await import('./jobs-plot.js')).registerJobsPlotCommand },
  { commands: ['worker'], load: async () => (await import('./worker.js')).registerWorkerCommands },
  { commands: ['coordinator'], load: async () => (await import('./coordinator.js')).registerCoordinatorCommands },
  { commands: ['tokens'], load: async () => (await import('./tokens.js')).registerTokensCommands },
  { commands: ['audit'], load: async () => (await import('./audit.js')).registerAuditCommands },
];

/** The modules a command line needs: those of its command, or all (help, no command, an unknown one). */
export function modulesFor(command: string | undefined): readonly CommandModule[] {
  const chosen = commandModules.filter((module) => command !== undefined && module.commands.includes(command));
  return chosen.length > 0 ? chosen : commandModules;
}
