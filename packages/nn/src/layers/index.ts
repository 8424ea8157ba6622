// Importing a layer file registers its Keras class name; everything that builds layers from specs imports
// this module once.
import './activation.ts';
import './batch-normalization.ts';
import './conv1d.ts';
import './dense.ts';
import './time-distributed.ts';
import './rnn/bidirectional.ts';
import './rnn/recurrent.ts';
