export { startServer, DEFAULT_PORT, type RunningServer, type StartServerOptions } from './start-server.js';
export type { ModuleInstance, ServerContext, ServerModule } from './server-module.js';
export { sweeperModule, type SweeperOptions } from './sweeper-module.js';
export { startHttpHost, type HttpHost, type HttpRoutes } from './http-host.js';
