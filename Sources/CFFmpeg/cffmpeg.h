// Umbrella header for libav*: the headers, plus static inline shims for the macros Swift cannot import.
// Nothing else belongs here (see DESIGN.md section 2).
#ifndef CFFMPEG_H
#define CFFMPEG_H

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavdevice/avdevice.h>
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersrc.h>
#include <libavfilter/buffersink.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
#include <libavutil/time.h>
#include <libavutil/dict.h>
#include <libavutil/parseutils.h>

static inline int cff_averror(int e) { return AVERROR(e); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_exit(void) { return AVERROR_EXIT; }
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int cff_averror_decoder_not_found(void) { return AVERROR_DECODER_NOT_FOUND; }
static inline int cff_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
static inline int cff_averror_option_not_found(void) { return AVERROR_OPTION_NOT_FOUND; }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline void cff_log(void *ctx, int level, const char *msg) { av_log(ctx, level, "%s", msg); }

/// Interrupt callback: `opaque` points at an int that becomes non-zero when the owner wants blocking I/O to stop.
static inline int cff_interrupt_check(void *opaque) {
    return opaque != NULL && __atomic_load_n((int *)opaque, __ATOMIC_ACQUIRE) != 0;
}
static inline void cff_install_interrupt(AVFormatContext *ctx, int *flag) {
    ctx->interrupt_callback.callback = cff_interrupt_check;
    ctx->interrupt_callback.opaque = flag;
}
/// Interrupt callback: `opaque` points at a monotonic deadline in µs (0: none); blocking I/O stops once it passed.
static inline int cff_deadline_check(void *opaque) {
    int64_t deadline = opaque == NULL ? 0 : __atomic_load_n((int64_t *)opaque, __ATOMIC_ACQUIRE);
    return deadline > 0 && av_gettime_relative() > deadline;
}
static inline void cff_install_deadline(AVFormatContext *ctx, int64_t *deadline) {
    ctx->interrupt_callback.callback = cff_deadline_check;
    ctx->interrupt_callback.opaque = deadline;
}
static inline void cff_set_deadline(int64_t *deadline, int64_t value) { __atomic_store_n(deadline, value, __ATOMIC_RELEASE); }
static inline void cff_set_flag(int *flag, int value) { __atomic_store_n(flag, value, __ATOMIC_RELEASE); }
static inline int cff_get_flag(int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }

#endif
