//===--- SoftmaxCompression.h ---------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// Streaming decompression of gzip, bzip2 and xz through the system's own
// libraries (libz.so.1, libbz2.so.1.0, liblzma.so.5), opened with dlopen
// on first use: the package builds without their headers, and a machine
// without one of them reads the other formats and says which is missing.
//
//===----------------------------------------------------------------------===//

#ifndef SOFTMAX_COMPRESSION_H
#define SOFTMAX_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The compressed formats.
typedef enum {
  softmax_codec_gzip = 1,
  softmax_codec_bzip2 = 2,
  softmax_codec_xz = 3,
  /// Raw deflate (RFC 1951), one stream, as a zip member holds it.
  softmax_codec_deflate = 4,
} softmax_codec;

/// The results of a step.
typedef enum {
  /// Went on; call again with more input or more output room.
  softmax_decode_more = 0,
  /// The last stream (member) ended exactly at the end of the input.
  softmax_decode_end = 1,
  /// The data is corrupt (message says how).
  softmax_decode_corrupt = -1,
  /// Out of memory, or the library is missing (message says which).
  softmax_decode_failed = -2,
} softmax_decode_result;

typedef struct softmax_decoder softmax_decoder;

/// A decoder of `codec`, or NULL with `message` (of `message_size`
/// bytes) saying why: the library is not installed, or out of memory.
softmax_decoder *softmax_decoder_open(softmax_codec codec, char *message, size_t message_size);

/// Decodes from `input[0..<input_count]` into `output[0..<output_count]`;
/// sets `consumed` and `produced`. `input_ends` says the input has no more
/// bytes after these. A stream that ends followed by another (concatenated
/// gzip members, bzip2 streams, xz streams) goes on into the next.
/// Returns `softmax_decode_end` once every stream has ended at the input's
/// end, `softmax_decode_corrupt` with `message` set for bad data, data
/// after the last stream, or input that ends inside a stream.
softmax_decode_result softmax_decoder_step(
    softmax_decoder *decoder, const uint8_t *input, size_t input_count, int input_ends,
    size_t *consumed, uint8_t *output, size_t output_count, size_t *produced, char *message,
    size_t message_size);

/// Frees the decoder.
void softmax_decoder_close(softmax_decoder *decoder);

#ifdef __cplusplus
}
#endif

#endif
