import protobuf from 'protobufjs';

/**
 * Adds nodes and outputs to a real ONNX model without decoding it: protobuf merges concatenated
 * messages, so the bytes of a ModelProto that holds only a partial graph append its nodes and outputs
 * to the model's graph. Only the fields written here are declared (field numbers from onnx/onnx.proto).
 */
const root = protobuf.parse(`
syntax = "proto2";
package onnx;
message AttributeProto { optional string name = 1; optional int64 i = 3; repeated int64 ints = 8; optional int32 type = 20; }
message NodeProto { repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4; repeated AttributeProto attribute = 5; }
message Dimension { optional int64 dim_value = 1; optional string dim_param = 2; }
message TensorShapeProto { repeated Dimension dim = 1; }
message TensorTypeProto { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
message TypeProto { optional TensorTypeProto tensor_type = 1; }
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message GraphProto { repeated NodeProto node = 1; repeated ValueInfoProto output = 12; }
message ModelProto { optional GraphProto graph = 7; }
`).root;

const ModelProto = root.lookupType('onnx.ModelProto');
const FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

export interface ExtraNode {
  opType: string;
  inputs: string[];
  output: string;
  /** Integer and integer-list attributes. */
  attributes?: Record<string, number | number[]>;
  /** Declared float output shape; a string is a dynamic dimension. */
  dims: (number | string)[];
}

export function withExtraOutputs(model: Uint8Array, nodes: ExtraNode[]): Buffer {
  const graph = {
    node: nodes.map((n) => ({
      input: n.inputs,
      output: [n.output],
      name: n.output,
      opType: n.opType,
      attribute: Object.entries(n.attributes ?? {}).map(([name, value]) =>
        Array.isArray(value) ? { name, ints: value, type: ATTRIBUTE_INTS } : { name, i: value, type: ATTRIBUTE_INT },
      ),
    })),
    output: nodes.map((n) => ({
      name: n.output,
      type: {
        tensorType: {
          elemType: FLOAT,
          shape: { dim: n.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    })),
  };
  const extra = ModelProto.encode(ModelProto.fromObject({ graph })).finish();
  return Buffer.concat([model, extra]);
}
