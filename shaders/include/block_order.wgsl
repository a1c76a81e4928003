// include/block_order.wgsl: where a block of a block-quantized tensor held in
// a texture is stored, in the interleaved order of
// crates/hcal-wgpu/src/block_layout.rs (`BlockLayout::physical`, the same
// formula) and its split form (`block_parts`, `BlockLayout::parts`). Pulled in
// by `// #include <block_order>` (matmul_quant.wgsl, gather.wgsl), each passing
// its own parameter block's fields.

// The stored index of logical block `l` (row r = l / bpr, block b = l % bpr)
// of a tensor of `rows` rows: `l` itself when `group` is 0 (stored order),
// else in group r / group of rows, unit b / unit, lane r % group.
fn interleaved_block(l: u32, group: u32, unit: u32, rows: u32, bpr: u32) -> u32 {
    if group == 0u { return l; }
    let r = l / bpr;
    let b = l % bpr;
    let g = r / group;
    let g_len = min(group, rows - g * group);
    return g * group * bpr + (b / unit) * g_len * unit + (r % group) * unit + b % unit;
}

// Where logical block `l` (of `bb` bytes) is stored, as the byte offsets of
// its first `hb` bytes (the head: its scales) and of the rest: for whole
// blocks (`head` 0) the block's start and `hb` bytes on; in the split form
// (units of one block) `BlockLayout::parts`'s two offsets: the run of a
// group's blocks at one step holds their heads (`head` = `hb` bytes each),
// lane by lane, then their rests.
fn block_parts(l: u32, group: u32, unit: u32, rows: u32, bpr: u32, bb: u32, hb: u32, head: u32) -> vec2<u32> {
    let p = interleaved_block(l, group, unit, rows, bpr);
    if head == 0u { return vec2<u32>(p * bb, p * bb + hb); }
    let r = l / bpr;
    let lane = r % group;
    let g_len = min(group, rows - (r / group) * group);
    let run = (p - lane) * bb;
    return vec2<u32>(run + head * lane, run + head * g_len + (bb - head) * lane);
}
