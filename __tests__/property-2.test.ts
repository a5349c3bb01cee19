import { propertySuite } from './helpers/properties.js';

// The second half of the generated cases (see property.test.ts).
propertySuite(1000, 2000);
