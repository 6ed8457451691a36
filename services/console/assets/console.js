// ptune console: the only script (CSP script-src 'self'). Live loss curves on a job page.
'use strict';
