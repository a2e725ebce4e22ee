// H.264 Annex-B helpers: NAL units, the codec string and the colour description of an SPS.

export function nalUnits(bytes) {
  const units = [];
  let i = 0, start = -1;
  while (i + 2 < bytes.length) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) units.push(bytes.subarray(start, i > 0 && bytes[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 3;
    } else {
      i++;
    }
  }
  if (start >= 0) units.push(bytes.subarray(start));
  return units;
}

export class BitReader {
  constructor(nal) {
    // Remove emulation prevention bytes (00 00 03).
    const out = [];
    for (let i = 0; i < nal.length; i++) {
      if (nal[i] === 3 && out.length >= 2 && out[out.length - 1] === 0 && out[out.length - 2] === 0) continue;
      out.push(nal[i]);
    }
    this.bytes = out;
    this.pos = 0;
  }
  bit() {
    if (this.pos >= this.bytes.length * 8) throw new Error('SPS ends early');
    const b = (this.bytes[this.pos >> 3] >> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return b;
  }
  bits(n) { let v = 0; for (let i = 0; i < n; i++) v = v * 2 + this.bit(); return v; }
  ue() { let z = 0; while (this.bit() === 0) { z++; if (z > 31) throw new Error('bad exp-Golomb'); } return (2 ** z - 1) + this.bits(z); }
  se() { const k = this.ue(); return k & 1 ? (k + 1) / 2 : -k / 2; }
}

export const PRIMARIES = { 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020', 12: 'smpte432' };
export const TRANSFERS = { 1: 'bt709', 6: 'smpte170m', 8: 'linear', 13: 'iec61966-2-1', 16: 'pq', 18: 'hlg' };
export const MATRICES = { 0: 'rgb', 1: 'bt709', 5: 'bt470bg', 6: 'smpte170m', 9: 'bt2020-ncl' };

// Returns { codec: 'avc1.PPCCLL', colorSpace: {...} | null } for an SPS NAL unit.
export function parseSPS(sps) {
  const hex = (b) => b.toString(16).padStart(2, '0').toUpperCase();
  const result = { codec: `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`, colorSpace: null };
  try {
    const r = new BitReader(sps.subarray(1));
    const profile = r.bits(8); r.bits(8); r.bits(8); r.ue();
    if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
      const chroma = r.ue();
      if (chroma === 3) r.bit();
      r.ue(); r.ue(); r.bit();
      if (r.bit()) {
        for (let i = 0; i < (chroma === 3 ? 12 : 8); i++) {
          if (!r.bit()) continue;
          let last = 8, next = 8;
          for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
            if (next !== 0) next = (last + r.se() + 256) % 256;
            last = next === 0 ? last : next;
          }
        }
      }
    }
    r.ue();
    const pocType = r.ue();
    if (pocType === 0) r.ue();
    else if (pocType === 1) { r.bit(); r.se(); r.se(); const n = r.ue(); for (let i = 0; i < n; i++) r.se(); }
    r.ue(); r.bit(); r.ue(); r.ue();
    if (!r.bit()) r.bit();
    r.bit();
    if (r.bit()) { r.ue(); r.ue(); r.ue(); r.ue(); }
    if (!r.bit()) return result;                       // no VUI
    if (r.bit() && r.bits(8) === 255) r.bits(32);      // aspect ratio
    if (r.bit()) r.bit();                               // overscan
    if (!r.bit()) return result;                       // no video signal type
    r.bits(3);
    const fullRange = r.bit() === 1;
    if (!r.bit()) return result;                       // no colour description
    const p = r.bits(8), t = r.bits(8), m = r.bits(8);
    result.colorSpace = { primaries: PRIMARIES[p] || null, transfer: TRANSFERS[t] || null, matrix: MATRICES[m] || null, fullRange };
  } catch (e) {
    // An SPS this reader does not follow: the decoder still gets it, only the colour tags are unknown.
  }
  return result;
}

// Untagged streams are taken as BT.601 limited range, as ffmpeg and ffplay take them (Chromium would assume BT.709).
export const UNTAGGED_COLOUR = { primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false };
