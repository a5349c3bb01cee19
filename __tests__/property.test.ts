import { counterexampleSuite, lineEndingSuite, propertySuite } from './helpers/properties.js';

// The 2,000 generated cases are checked in two files (this one and property-2.test.ts) so that both jest workers
// share the work; see helpers/properties.ts.
propertySuite(0, 1000);
counterexampleSuite();
lineEndingSuite();
