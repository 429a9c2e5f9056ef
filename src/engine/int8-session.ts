/**
 * What serving needs to know of the int8 graph, apart from the exporter
 * (which pulls in calibration and TF.js): its file name, and the session
 * options every int8 session sets.
 */
export const INT8_FILE = 'model.int8.onnx';

/**
 * onnxruntime moves a QuantizeLinear up through a max pool, which leaves that
 * pool on uint8 NCHW values, a slow generic kernel (a third of the whole time
 * on block 1's pool); without the move the pool stays in the fast float
 * NCHWc layout. Sessions of int8 graphs set this.
 */
export const INT8_SESSION_OPTIONS = { extra: { optimization: { disable_specified_optimizers: 'QDQPropagationTransformer' } } };
