export { runQuickstart, type QuickstartOptions, type QuickstartResult } from './run-quickstart.js';
export { quickstartPlan, QUICKSTART_ALIAS, QUICKSTART_NAMESPACE, type QuickstartPlan, type QuickstartTask } from './plan.js';
export { mintQuickstartToken } from './process-token.js';
export { GENERATED_PRESET, type QuickstartModel } from './base-model.js';
