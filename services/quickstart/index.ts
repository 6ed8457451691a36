export { runQuickstart, type QuickstartOptions, type QuickstartResult } from './run-quickstart.js';
export { quickstartPlan, type QuickstartPlan, type QuickstartTask } from './plan.js';
export { mintQuickstartToken } from './process-token.js';
export { quickstartModelName, type QuickstartModel } from './base-model.js';
