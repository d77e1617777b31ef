/**
 * An independent protobuf implementation of prompb (protobufjs reflection from a JSON
 * descriptor of `remote.proto`/`types.proto`), used by the tests to check that promgate's
 * hand-walked codec speaks the same wire format, and to decode Prometheus's read responses.
 */
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        ReadRequest: {
          fields: {
            queries: { rule: 'repeated', type: 'Query', id: 1 },
            accepted_response_types: { rule: 'repeated', type: 'ResponseType', id: 2 },
          },
          nested: { ResponseType: { values: { SAMPLES: 0, STREAMED_XOR_CHUNKS: 1 } } },
        },
        Query: {
          fields: {
            start_timestamp_ms: { type: 'int64', id: 1 },
            end_timestamp_ms: { type: 'int64', id: 2 },
            matchers: { rule: 'repeated', type: 'LabelMatcher', id: 3 },
            hints: { type: 'ReadHints', id: 4 },
          },
        },
        LabelMatcher: {
          fields: {
            type: { type: 'Type', id: 1 },
            name: { type: 'string', id: 2 },
            value: { type: 'string', id: 3 },
          },
          nested: { Type: { values: { EQ: 0, NEQ: 1, RE: 2, NRE: 3 } } },
        },
        ReadHints: {
          fields: {
            step_ms: { type: 'int64', id: 1 },
            func: { type: 'string', id: 2 },
            start_ms: { type: 'int64', id: 3 },
            end_ms: { type: 'int64', id: 4 },
            grouping: { rule: 'repeated', type: 'string', id: 5 },
            by: { type: 'bool', id: 6 },
            range_ms: { type: 'int64', id: 7 },
          },
        },
        ReadResponse: { fields: { results: { rule: 'repeated', type: 'QueryResult', id: 1 } } },
        QueryResult: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: {
          fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } },
        },
        ChunkedReadResponse: {
          fields: {
            chunked_series: { rule: 'repeated', type: 'ChunkedSeries', id: 1 },
            query_index: { type: 'int64', id: 2 },
          },
        },
        ChunkedSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            chunks: { rule: 'repeated', type: 'Chunk', id: 2 },
          },
        },
        Chunk: {
          fields: {
            min_time_ms: { type: 'int64', id: 1 },
            max_time_ms: { type: 'int64', id: 2 },
            type: { type: 'int32', id: 3 },
            data: { type: 'bytes', id: 4 },
          },
        },
      },
    },
  },
});

export const ReadRequestType = root.lookupType('prometheus.ReadRequest');
export const ReadResponseType = root.lookupType('prometheus.ReadResponse');
export const ChunkedReadResponseType = root.lookupType('prometheus.ChunkedReadResponse');

/**
 * Plain-object view of a decoded message: int64 as decimal strings, enums as numbers, every
 * field present (scalars with their zero value, absent sub-messages as `null`).
 */
export function toPlain(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), {
    longs: String,
    enums: Number,
    arrays: true,
    defaults: true,
  });
}
