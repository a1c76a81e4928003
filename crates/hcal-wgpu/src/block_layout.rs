//! The interleaved block order of block-quantized weights held in textures
//! (`packed.rs`) on SIMD CPU drivers.
//!
//! Why: the decode GEMV (`matmul_quant.wgsl`) gives each lane of an 8-wide
//! SIMD group its own columns of Y, so in stored order a group streams 8 to
//! 32 rows of B at once, each row's blocks a row length apart. With the
//! weights cold (a model reads each layer's once per token) that is as many
//! memory streams as lanes, more than a core's prefetchers follow. In this
//! order the blocks a group reads at one step are adjacent, one stream.
//! Measured on lavapipe (2-vCPU VM, `hcal bench --cold`, a probe with the
//! same loads at interleaved addresses against stored order, 12 alternated
//! runs, medians of the ratios): Q4_1 576x576 0.79, 1536x576 0.76 (7 of 8
//! faster), 3072x576 0.67 (8 of 8), 576x1536 0.87.
//!
//! The order: a tensor is `rows` rows of `blocks_per_row` blocks (its last
//! dim over 32; the leading dims flattened). Rows go in groups of `group`
//! (the last group may be short, `g_len` rows); within a group, blocks are
//! laid out by units of `unit` consecutive blocks of a row (1, or 2 for the
//! Q4_1 GEMV that reads two blocks at a time): unit `j` of every row of the
//! group, row by row, then unit `j + 1`. Logical block `L = r
//! blocks_per_row + b` (row `r = g group + l`) sits at
//! `g group blocks_per_row + (b / unit) g_len unit + l unit + b % unit`.
//! So the next block of a row is `g_len` blocks on (`g_len unit` for the next
//! unit). It is a permutation of whole blocks: the same bytes, the same size.
//! The kernels that read a packed tensor (the products, Cast, Gather) map
//! block addresses with the same formula (`shaders/include/block_order.wgsl`), and
//! the host puts the bytes in this order on upload and back on read.
//!
//! The split form (`head > 0`; weights read by the 4-column GEMV, rows in
//! fours for Q4_1, in eights for Q4_0 and Q8_0): each run of a group's
//! blocks at one step (`g_len` blocks, units of one) holds first the blocks'
//! heads (their scales: [`head_bytes`], 4 or 2 each), lane by lane, then the
//! rests (16 or 32 bytes of quants each). Blocks of 18, 20 or 34 bytes
//! otherwise straddle texels: the GEMV read two or three texels per block
//! and realigned their words with selects (and by 16 bits for 18 and 34).
//! In this form an invocation's 4 columns (rows `4i..4i+3` of the group)
//! have their 4 heads in one texel and each column's quants in whole
//! texels: for Q4_1 5 aligned texel loads for 4 blocks instead of 8, no
//! realignment. It is a permutation of bytes (the same
//! size), so the host and the element-wise readers map it like the block
//! order ([`BlockLayout::parts`], `block_parts`). Measured on lavapipe
//! (2-vCPU VM), against whole blocks (`:whole`): the SmolLM2 decode step
//! 1.021x and 1.084x by the medians with Q4_1 split (`decode_ab`, 96
//! alternated pairs, faster in 78 and 74), 1.002x and 1.086x (59 and 70)
//! with the Q8_0 embedding split too; `hcal bench --cold` Q4_1 GEMVs
//! 1.01-1.14x, the Q8_0 logits GEMV (49152x576) 1.01-1.05x.

use hcal_core::{DType, TensorDesc};

/// Where each block of a packed tensor is stored (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockLayout {
    /// Rows (all dims but the last, flattened).
    pub(crate) rows: u32,
    /// Blocks per row (the last dim over 32).
    pub(crate) blocks_per_row: u32,
    /// Rows per group: the lanes of an 8-wide SIMD group times the columns
    /// each takes in the GEMV.
    pub(crate) group: u32,
    /// Consecutive blocks of a row kept together: 2 where the GEMV reads
    /// Q4_1 blocks in pairs, else 1.
    pub(crate) unit: u32,
    /// 0, or the bytes at the head of each block ([`head_bytes`]: its
    /// scales) that are stored apart from the rest of the block (see the
    /// module docs: the split form).
    pub(crate) head: u32,
}

/// The head of a block of the block-quantized `dtype`: its scales, the f16
/// `d` (Q4_0, Q8_0: 2 bytes) or `d` and `m` (Q4_1: 4 bytes). The rest (16
/// or 32 bytes of quants) is whole texels.
pub(crate) fn head_bytes(dtype: DType) -> u32 {
    if dtype == DType::Q4_1 { 4 } else { 2 }
}

impl BlockLayout {
    /// The layout a block-quantized tensor of `desc` gets in a texture, for
    /// the GEMV that reads it as the `[N, K]` B of a product (N = rows):
    /// `columns` is that GEMV's columns per invocation (`gemv_plan::gemv_plan`) and
    /// `pairs` whether it reads Q4_1 blocks in pairs (one column, 8-wide
    /// subgroups). In the split form ([`BlockLayout::head`] > 0) where that
    /// GEMV takes 4 columns (units of one block) and the rows are in fours
    /// (Q4_1) or eights (2-byte heads). `None` for a tensor of one row or of
    /// one block per row (nothing to interleave).
    pub(crate) fn for_weight(desc: &TensorDesc, columns: u32, pairs: bool) -> Option<Self> {
        let last = *desc.shape.last()?;
        let rows = desc.numel() / last.max(1);
        let blocks_per_row = (last / 32) as u32;
        // One row, or one block per row: stored order already.
        if rows < 2 || blocks_per_row < 2 || u32::try_from(rows).is_err() {
            return None;
        }
        let unit = if pairs && desc.dtype == DType::Q4_1 && columns == 1 && blocks_per_row % 2 == 0 { 2 } else { 1 };
        // The split form where the 4-column GEMV reads it: with every
        // group's rows a multiple of 16 / head (4 for Q4_1, 8 for 2-byte
        // heads) each run's heads end on a texel, so every rest starts on
        // one, and a lane's 4 heads lie in one texel.
        let head = head_bytes(desc.dtype);
        let split = unit == 1 && columns == 4 && rows % (16 / head as usize) == 0;
        let head = if split { head } else { 0 };
        Some(Self { rows: rows as u32, blocks_per_row, group: 8 * columns, unit, head })
    }

    /// The stored block index of logical block `l`.
    pub(crate) fn physical(&self, l: u32) -> u32 {
        let (r, b) = (l / self.blocks_per_row, l % self.blocks_per_row);
        let (g, lane) = (r / self.group, r % self.group);
        let g_len = self.group.min(self.rows - g * self.group);
        g * self.group * self.blocks_per_row + (b / self.unit) * g_len * self.unit + lane * self.unit + b % self.unit
    }

    /// Where logical block `l` (of `block_bytes` bytes) is stored: the byte
    /// offsets of its [`BlockLayout::head`] bytes and of the rest. Whole
    /// blocks (head 0) are one run, so both are the block's start. In the
    /// split form, the run of a group's blocks at one step of its rows (the
    /// blocks of `physical` indices `s .. s + g_len`, starting at byte
    /// `S = s block_bytes`) holds the heads, lane by lane, then the rests:
    /// lane `i`'s head at `S + head i`, its rest at
    /// `S + head g_len + (block_bytes - head) i`.
    pub(crate) fn parts(&self, l: u32, block_bytes: u32) -> (u32, u32) {
        let p = self.physical(l);
        if self.head == 0 {
            return (p * block_bytes, p * block_bytes);
        }
        let r = l / self.blocks_per_row;
        let (g, lane) = (r / self.group, r % self.group);
        let g_len = self.group.min(self.rows - g * self.group);
        // The split form has units of one block: the run starts `lane` blocks before `p`.
        let run = (p - lane) * block_bytes;
        (run + self.head * lane, run + self.head * g_len + (block_bytes - self.head) * lane)
    }

    /// `bytes` (the tensor as stored, blocks of `block_bytes`) in this order.
    pub(crate) fn interleave(&self, bytes: &[u8], block_bytes: usize) -> Vec<u8> {
        let mut out = vec![0; bytes.len()];
        let head = self.head as usize;
        for (l, block) in bytes.chunks_exact(block_bytes).enumerate() {
            let (h, r) = self.parts(l as u32, block_bytes as u32);
            let (h, r) = (h as usize, r as usize);
            out[h..h + head].copy_from_slice(&block[..head]);
            out[r..r + block_bytes - head].copy_from_slice(&block[head..]);
        }
        out
    }

    /// The inverse of [`BlockLayout::interleave`]: `bytes` in this order
    /// back in stored order.
    pub(crate) fn deinterleave(&self, bytes: &[u8], block_bytes: usize) -> Vec<u8> {
        let mut out = vec![0; bytes.len()];
        let head = self.head as usize;
        for (l, block) in out.chunks_exact_mut(block_bytes).enumerate() {
            let (h, r) = self.parts(l as u32, block_bytes as u32);
            let (h, r) = (h as usize, r as usize);
            block[..head].copy_from_slice(&bytes[h..h + head]);
            block[head..].copy_from_slice(&bytes[r..r + block_bytes - head]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(rows: u32, blocks_per_row: u32, group: u32, unit: u32) -> BlockLayout {
        BlockLayout { rows, blocks_per_row, group, unit, head: 0 }
    }

    fn split(rows: u32, blocks_per_row: u32) -> BlockLayout {
        BlockLayout { head: 4, ..layout(rows, blocks_per_row, 32, 1) }
    }

    /// Every layout is a permutation of the blocks, and the round trip gives
    /// the bytes back: short last groups, pairs, one group, many.
    #[test]
    fn the_order_is_a_permutation_and_round_trips() {
        for l in [
            layout(576, 18, 8, 2),
            layout(19, 3, 8, 1),
            layout(37, 4, 32, 2),
            layout(5, 2, 8, 1),
            layout(64, 1, 32, 1),
            split(576, 18),
            split(44, 3),
            BlockLayout { head: 2, ..split(40, 2) },
        ] {
            let n = l.rows * l.blocks_per_row;
            let mut seen = vec![false; n as usize];
            for b in 0..n {
                let p = l.physical(b);
                assert!(p < n && !seen[p as usize], "{l:?}: block {b} -> {p}");
                seen[p as usize] = true;
            }
            let bytes: Vec<u8> = (0..n as usize * 20).map(|i| (i * 7 % 251) as u8).collect();
            let stored = l.interleave(&bytes, 20);
            let bytes34: Vec<u8> = (0..n as usize * 34).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(l.deinterleave(&l.interleave(&bytes34, 34), 34), bytes34, "{l:?}, 34-byte blocks");
            // One block per row is stored order already (whole blocks).
            assert_eq!(stored == bytes, l.blocks_per_row == 1, "{l:?}");
            // Every byte has one place: heads and rests tile the tensor.
            let mut covered = vec![false; bytes.len()];
            for b in 0..n {
                let (h, r) = l.parts(b, 20);
                let head = l.head as usize;
                for at in (h as usize..h as usize + head).chain(r as usize..r as usize + 20 - head) {
                    assert!(!covered[at], "{l:?}: block {b} byte {at}");
                    covered[at] = true;
                }
            }
            assert_eq!(l.deinterleave(&stored, 20), bytes, "{l:?}");
        }
    }

    /// What the GEMV relies on: a group's lanes read adjacent blocks at each
    /// step, and a row's next block (or unit) is `g_len` (`g_len unit`) on.
    #[test]
    fn a_groups_step_is_one_run_and_the_stride_is_the_groups_rows() {
        let l = layout(20, 4, 8, 2); // groups of 8, 8 and 4 rows; pairs
        assert_eq!((0..8).map(|r| l.physical(r * 4)).collect::<Vec<_>>(), [0, 2, 4, 6, 8, 10, 12, 14]);
        assert_eq!(l.physical(1), 1, "the pair's second block follows its first");
        assert_eq!(l.physical(2) - l.physical(0), 8 * 2, "the next pair: g_len unit on");
        // The short last group (rows 16..20): its own g_len of 4.
        assert_eq!(l.physical(16 * 4), 64);
        assert_eq!(l.physical(17 * 4), 66);
        assert_eq!(l.physical(16 * 4 + 2) - l.physical(16 * 4), 4 * 2);
    }

    /// What the 4-column GEMV relies on in the split form: at each step a
    /// lane's 4 heads are one texel and each rest is one, and the next step
    /// is `g_len` blocks on for heads and rests alike; a short last group
    /// (rows 32..44) keeps that.
    #[test]
    fn the_split_form_puts_a_lanes_heads_in_one_texel() {
        let l = split(44, 3);
        for (row, g_len) in [(0, 32), (4, 32), (28, 32), (32, 12), (40, 12)] {
            let (h, r) = l.parts(row * 3, 20);
            assert_eq!(h % 16, 0, "row {row}: the lane's first head starts a texel");
            for c in 0..4 {
                let (hc, rc) = l.parts((row + c) * 3, 20);
                assert_eq!((hc, rc), (h + 4 * c, r + 16 * c), "row {row} + {c}");
                assert_eq!(rc % 16, 0);
                let (hn, rn) = l.parts((row + c) * 3 + 1, 20);
                assert_eq!((hn - hc, rn - rc), (g_len * 20, g_len * 20), "row {row} + {c}: the next block");
            }
        }
    }

    /// With 2-byte heads (Q4_0, Q8_0; rows in eights): a lane's 4 heads
    /// are half a texel and every rest starts on a texel.
    #[test]
    fn two_byte_heads_share_a_texel_and_rests_start_on_one() {
        let l = BlockLayout { head: 2, ..split(40, 2) }; // groups of 32 and 8
        for bb in [18, 34] {
            for row in (0..40).step_by(4) {
                let (h, _) = l.parts(row * 2, bb);
                assert_eq!(h % 8, 0, "row {row}: 4 heads in one texel ({bb}-byte blocks)");
                for c in 0..4 {
                    let (hc, rc) = l.parts((row + c) * 2 + 1, bb);
                    assert_eq!(hc - l.parts(row * 2 + 1, bb).0, 2 * c);
                    assert_eq!(rc % 16, 0, "row {row} + {c}: its rest starts a texel ({bb}-byte blocks)");
                }
            }
        }
    }

    #[test]
    fn weights_get_the_order_of_the_gemv_that_reads_them() {
        let desc = |shape: &[usize], dtype| TensorDesc::new(shape, dtype);
        assert_eq!(BlockLayout::for_weight(&desc(&[576, 576], DType::Q4_1), 1, true), Some(layout(576, 18, 8, 2)));
        assert_eq!(BlockLayout::for_weight(&desc(&[1536, 576], DType::Q4_1), 4, true), Some(split(1536, 18)));
        // The split form with 4 columns and rows in fours (Q4_1) or eights
        // (2-byte heads).
        let split2 = |rows, bpr| BlockLayout { head: 2, ..split(rows, bpr) };
        assert_eq!(BlockLayout::for_weight(&desc(&[1536, 576], DType::Q4_0), 4, true), Some(split2(1536, 18)));
        assert_eq!(BlockLayout::for_weight(&desc(&[49152, 576], DType::Q8_0), 4, true), Some(split2(49152, 18)));
        assert_eq!(BlockLayout::for_weight(&desc(&[1538, 576], DType::Q4_1), 4, true), Some(layout(1538, 18, 32, 1)));
        assert_eq!(BlockLayout::for_weight(&desc(&[68, 576], DType::Q4_1), 4, true), Some(split(68, 18)));
        assert_eq!(BlockLayout::for_weight(&desc(&[68, 576], DType::Q8_0), 4, true), Some(layout(68, 18, 32, 1)));
        assert_eq!(BlockLayout::for_weight(&desc(&[1536, 576], DType::Q4_1), 2, false), Some(layout(1536, 18, 16, 1)));
        assert_eq!(BlockLayout::for_weight(&desc(&[576, 576], DType::Q8_0), 1, true), Some(layout(576, 18, 8, 1)));
        // Odd blocks per row: single blocks; one row: stored order.
        assert_eq!(BlockLayout::for_weight(&desc(&[8, 96], DType::Q4_1), 1, true), Some(layout(8, 3, 8, 1)));
        assert_eq!(BlockLayout::for_weight(&desc(&[64], DType::Q4_1), 1, true), None);
        assert_eq!(BlockLayout::for_weight(&desc(&[2, 3, 64], DType::Q4_0), 1, false), Some(layout(6, 2, 8, 1)));
    }
}
