import type { Command } from 'commander';

/** Each command module adds its commands to the program. Add new modules here. */
export type RegisterCommands = (program: Command) => void;

export const commandModules: RegisterCommands[] = [];
