//===--- decoder.c ---------------------------------------------*- C -*-===//
//
// This source file is part of the swift-softmax open source project
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//
//
// The three libraries' stream structures are declared here as their
// public headers define them (their layouts are part of each library's
// stable ABI: zlib 1.x, libbzip2 1.0, liblzma 5), so that no -dev package
// is needed to build.
//
//===----------------------------------------------------------------------===//

#include "SoftmaxCompression.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// MARK: - zlib (zlib.h, 1.x)

typedef struct {
  const uint8_t *next_in;
  unsigned int avail_in;
  unsigned long total_in;
  uint8_t *next_out;
  unsigned int avail_out;
  unsigned long total_out;
  const char *msg;
  void *state;
  void *zalloc;
  void *zfree;
  void *opaque;
  int data_type;
  unsigned long adler;
  unsigned long reserved;
} z_stream;

enum { Z_OK = 0, Z_STREAM_END = 1, Z_NEED_DICT = 2, Z_BUF_ERROR = -5, Z_MEM_ERROR = -4 };

// MARK: - libbzip2 (bzlib.h, 1.0)

typedef struct {
  char *next_in;
  unsigned int avail_in;
  unsigned int total_in_lo32;
  unsigned int total_in_hi32;
  char *next_out;
  unsigned int avail_out;
  unsigned int total_out_lo32;
  unsigned int total_out_hi32;
  void *state;
  void *bzalloc;
  void *bzfree;
  void *opaque;
} bz_stream;

enum { BZ_OK = 0, BZ_STREAM_END = 4, BZ_MEM_ERROR = -3 };

// MARK: - liblzma (lzma/base.h, 5.x)

typedef struct {
  const uint8_t *next_in;
  size_t avail_in;
  uint64_t total_in;
  uint8_t *next_out;
  size_t avail_out;
  uint64_t total_out;
  const void *allocator;
  void *internal;
  void *reserved_ptr1;
  void *reserved_ptr2;
  void *reserved_ptr3;
  void *reserved_ptr4;
  uint64_t reserved_int1;
  uint64_t reserved_int2;
  size_t reserved_int3;
  size_t reserved_int4;
  int reserved_enum1;
  int reserved_enum2;
} lzma_stream;

enum {
  LZMA_OK = 0,
  LZMA_STREAM_END = 1,
  LZMA_MEM_ERROR = 5,
  LZMA_MEMLIMIT_ERROR = 6,
  LZMA_FORMAT_ERROR = 7,
  LZMA_OPTIONS_ERROR = 8,
  LZMA_DATA_ERROR = 9,
  LZMA_BUF_ERROR = 10,
  LZMA_RUN = 0,
  LZMA_FINISH = 3,
  LZMA_CONCATENATED = 0x08,
};

// MARK: - The decoder

struct softmax_decoder {
  softmax_codec codec;
  void *library;
  // Between two streams: the last one ended and no new one has begun.
  int between;
  union {
    z_stream z;
    bz_stream bz;
    lzma_stream lzma;
  } stream;
  int (*inflate_init)(z_stream *, int, const char *, int);
  int (*inflate)(z_stream *, int);
  int (*inflate_reset)(z_stream *);
  int (*inflate_end)(z_stream *);
  int (*bz_init)(bz_stream *, int, int);
  int (*bz_decompress)(bz_stream *);
  int (*bz_end)(bz_stream *);
  int (*lzma_decoder)(lzma_stream *, uint64_t, uint32_t);
  int (*lzma_code)(lzma_stream *, int);
  void (*lzma_end)(lzma_stream *);
};

static const char *const library_names[][2] = {
#if defined(__APPLE__)
    {"libz.1.dylib", "libz.dylib"},
    {"libbz2.1.0.dylib", "libbz2.dylib"},
    {"liblzma.5.dylib", "liblzma.dylib"},
    {"libz.1.dylib", "libz.dylib"},
#else
    {"libz.so.1", "libz.so"},
    {"libbz2.so.1.0", "libbz2.so.1"},
    {"liblzma.so.5", "liblzma.so"},
    {"libz.so.1", "libz.so"},
#endif
};

static const char *const codec_names[] = {"gzip", "bzip2", "xz", "deflate"};

static int begin_stream(softmax_decoder *d) {
  memset(&d->stream, 0, sizeof d->stream);
  switch (d->codec) {
  case softmax_codec_gzip:
    // 15 + 16: a gzip wrapper, the largest window.
    return d->inflate_init(&d->stream.z, 15 + 16, "1.2.11", (int)sizeof(z_stream)) == Z_OK;
  case softmax_codec_deflate:
    // -15: raw deflate, no wrapper, the largest window.
    return d->inflate_init(&d->stream.z, -15, "1.2.11", (int)sizeof(z_stream)) == Z_OK;
  case softmax_codec_bzip2:
    return d->bz_init(&d->stream.bz, 0, 0) == BZ_OK;
  case softmax_codec_xz:
    return d->lzma_decoder(&d->stream.lzma, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
  }
  return 0;
}

static void end_stream(softmax_decoder *d) {
  switch (d->codec) {
  case softmax_codec_gzip:
  case softmax_codec_deflate: d->inflate_end(&d->stream.z); break;
  case softmax_codec_bzip2: d->bz_end(&d->stream.bz); break;
  case softmax_codec_xz: d->lzma_end(&d->stream.lzma); break;
  }
}

softmax_decoder *softmax_decoder_open(softmax_codec codec, char *message, size_t message_size) {
  if (codec < softmax_codec_gzip || codec > softmax_codec_deflate) {
    snprintf(message, message_size, "unknown compression");
    return NULL;
  }
  softmax_decoder *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(message, message_size, "out of memory");
    return NULL;
  }
  d->codec = codec;
  const char *const *names = library_names[codec - 1];
  d->library = dlopen(names[0], RTLD_NOW | RTLD_LOCAL);
  if (!d->library) d->library = dlopen(names[1], RTLD_NOW | RTLD_LOCAL);
  if (!d->library) {
    snprintf(message, message_size, "reading %s needs %s, which is not installed",
             codec_names[codec - 1], names[0]);
    free(d);
    return NULL;
  }
  int found = 0;
  switch (codec) {
  case softmax_codec_gzip:
  case softmax_codec_deflate:
    *(void **)&d->inflate_init = dlsym(d->library, "inflateInit2_");
    *(void **)&d->inflate = dlsym(d->library, "inflate");
    *(void **)&d->inflate_reset = dlsym(d->library, "inflateReset");
    *(void **)&d->inflate_end = dlsym(d->library, "inflateEnd");
    found = d->inflate_init && d->inflate && d->inflate_reset && d->inflate_end;
    break;
  case softmax_codec_bzip2:
    *(void **)&d->bz_init = dlsym(d->library, "BZ2_bzDecompressInit");
    *(void **)&d->bz_decompress = dlsym(d->library, "BZ2_bzDecompress");
    *(void **)&d->bz_end = dlsym(d->library, "BZ2_bzDecompressEnd");
    found = d->bz_init && d->bz_decompress && d->bz_end;
    break;
  case softmax_codec_xz:
    *(void **)&d->lzma_decoder = dlsym(d->library, "lzma_stream_decoder");
    *(void **)&d->lzma_code = dlsym(d->library, "lzma_code");
    *(void **)&d->lzma_end = dlsym(d->library, "lzma_end");
    found = d->lzma_decoder && d->lzma_code && d->lzma_end;
    break;
  }
  if (!found) {
    snprintf(message, message_size, "%s lacks the functions of %s decoding", names[0],
             codec_names[codec - 1]);
    dlclose(d->library);
    free(d);
    return NULL;
  }
  if (!begin_stream(d)) {
    snprintf(message, message_size, "cannot start a %s decoder (out of memory?)",
             codec_names[codec - 1]);
    dlclose(d->library);
    free(d);
    return NULL;
  }
  return d;
}

void softmax_decoder_close(softmax_decoder *d) {
  if (!d) return;
  if (!d->between) end_stream(d);
  dlclose(d->library);
  free(d);
}

// Whether `bytes` (of `count`, at least `needed`) begin a new stream.
static int begins_stream(softmax_codec codec, const uint8_t *bytes, size_t count) {
  switch (codec) {
  case softmax_codec_gzip: return count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
  case softmax_codec_bzip2:
    return count >= 3 && bytes[0] == 'B' && bytes[1] == 'Z' && bytes[2] == 'h';
  case softmax_codec_xz:
  case softmax_codec_deflate: return 0;
  }
  return 0;
}

softmax_decode_result softmax_decoder_step(
    softmax_decoder *d, const uint8_t *input, size_t input_count, int input_ends,
    size_t *consumed, uint8_t *output, size_t output_count, size_t *produced, char *message,
    size_t message_size) {
  size_t in_pos = 0, out_pos = 0;
  softmax_decode_result result = softmax_decode_more;
  const char *name = codec_names[d->codec - 1];
  for (;;) {
    if (d->between) {
      size_t left = input_count - in_pos;
      if (left == 0) {
        if (input_ends) result = softmax_decode_end;
        break;
      }
      size_t needed = d->codec == softmax_codec_gzip ? 2 : 3;
      if (left < needed && !input_ends) break;
      if (!begins_stream(d->codec, input + in_pos, left)) {
        snprintf(message, message_size,
                 "%zu bytes after the end of the %s data that are not %s data", left, name,
                 name);
        result = softmax_decode_corrupt;
        break;
      }
      if (!begin_stream(d)) {
        snprintf(message, message_size, "cannot start a %s decoder (out of memory?)", name);
        result = softmax_decode_failed;
        break;
      }
      d->between = 0;
    }
    if (out_pos == output_count) break;
    size_t in_left = input_count - in_pos, out_left = output_count - out_pos;
    // zlib and libbzip2 count in unsigned int.
    if (d->codec != softmax_codec_xz) {
      if (in_left > UINT_MAX) in_left = UINT_MAX;
      if (out_left > UINT_MAX) out_left = UINT_MAX;
    }
    int status, ended = 0, corrupt = 0, no_memory = 0;
    size_t in_used, out_made;
    switch (d->codec) {
    case softmax_codec_gzip:
    case softmax_codec_deflate: {
      z_stream *s = &d->stream.z;
      s->next_in = input + in_pos;
      s->avail_in = (unsigned)in_left;
      s->next_out = output + out_pos;
      s->avail_out = (unsigned)out_left;
      status = d->inflate(s, 0);
      in_used = in_left - s->avail_in;
      out_made = out_left - s->avail_out;
      ended = status == Z_STREAM_END;
      no_memory = status == Z_MEM_ERROR;
      corrupt = !ended && status != Z_OK && status != Z_BUF_ERROR && !no_memory;
      if (corrupt)
        snprintf(message, message_size, "corrupt %s data (%s)", name,
                 status == Z_NEED_DICT ? "needs a dictionary" : (s->msg ? s->msg : "zlib error"));
      break;
    }
    case softmax_codec_bzip2: {
      bz_stream *s = &d->stream.bz;
      s->next_in = (char *)(input + in_pos);
      s->avail_in = (unsigned)in_left;
      s->next_out = (char *)(output + out_pos);
      s->avail_out = (unsigned)out_left;
      status = d->bz_decompress(s);
      in_used = in_left - s->avail_in;
      out_made = out_left - s->avail_out;
      ended = status == BZ_STREAM_END;
      no_memory = status == BZ_MEM_ERROR;
      corrupt = !ended && status != BZ_OK && !no_memory;
      if (corrupt) snprintf(message, message_size, "corrupt bzip2 data (error %d)", status);
      break;
    }
    case softmax_codec_xz: {
      lzma_stream *s = &d->stream.lzma;
      s->next_in = input + in_pos;
      s->avail_in = in_left;
      s->next_out = output + out_pos;
      s->avail_out = out_left;
      status = d->lzma_code(s, input_ends ? LZMA_FINISH : LZMA_RUN);
      in_used = in_left - s->avail_in;
      out_made = out_left - s->avail_out;
      ended = status == LZMA_STREAM_END;
      no_memory = status == LZMA_MEM_ERROR || status == LZMA_MEMLIMIT_ERROR;
      corrupt = !ended && status != LZMA_OK && status != LZMA_BUF_ERROR && !no_memory;
      if (corrupt)
        snprintf(message, message_size, "corrupt xz data (%s)",
                 status == LZMA_FORMAT_ERROR    ? "not xz"
                 : status == LZMA_OPTIONS_ERROR ? "unsupported options"
                                                : "damaged");
      if (status == LZMA_BUF_ERROR && input_ends && in_pos + in_used == input_count) {
        corrupt = 1;
        snprintf(message, message_size, "truncated xz data (it ends before its end marker)");
      }
      break;
    }
    default: return softmax_decode_failed;
    }
    in_pos += in_used;
    out_pos += out_made;
    if (no_memory) {
      snprintf(message, message_size, "out of memory decoding %s", name);
      result = softmax_decode_failed;
      break;
    }
    if (corrupt) {
      result = softmax_decode_corrupt;
      break;
    }
    if (ended) {
      end_stream(d);
      d->between = 1;
      if (d->codec == softmax_codec_xz) {
        // LZMA_CONCATENATED has read every stream and the padding.
        result = softmax_decode_end;
        break;
      }
      continue;
    }
    if (in_used == 0 && out_made == 0) {
      if (input_ends && in_pos == input_count) {
        snprintf(message, message_size, "truncated %s data (it ends before its end marker)",
                 name);
        result = softmax_decode_corrupt;
      }
      break;
    }
  }
  *consumed = in_pos;
  *produced = out_pos;
  return result;
}
