import type { Command } from 'commander';
import { registerEngineCommands } from './engine.js';
import { registerRegistryCommands } from './registry.js';
import { registerServeCommands } from './serve.js';
import { registerCoordinatorCommands } from './coordinator.js';
import { registerJobsCommands } from './jobs.js';
import { registerJobsPlotCommand } from './jobs-plot.js';
import { registerTrainCommands } from './train.js';
import { registerWorkerCommands } from './worker.js';
import { registerTokensCommands } from './tokens.js';
import { registerAuditCommands } from './audit.js';

/** Each command module adds its commands to the program. Add new modules here. */
export type RegisterCommands = (program: Command) => void;

export const commandModules: RegisterCommands[] = [registerEngineCommands, registerServeCommands, registerRegistryCommands, registerTrainCommands, registerJobsCommands, registerJobsPlotCommand, registerWorkerCommands, registerCoordinatorCommands, registerTokensCommands, registerAuditCommands];
