//! Parameter blocks of the elementwise and reduction kernels: binary,
//! Where, unary, Cast, reductions and the ops along one axis.

use bytemuck::{Pod, Zeroable};

use super::{MAX_DIMS, Member, ParamsStruct};

params_struct! {
    /// `BinaryParams` (`shaders/binary.wgsl`): broadcasting over the output's dims.
    BinaryParams {
        /// Output elements.
        pub(crate) n: u32,
        /// 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min, 6 Pow, 7 Equal, 8 Less,
        /// 9 Greater, 10 LessOrEqual, 11 GreaterOrEqual, 12 And, 13 Or
        /// (`expand` ignores it).
        pub(crate) op: u32,
        /// Output rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Output shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// A's stride over each output dim (0 where broadcast).
        pub(crate) a_strides: [u32; MAX_DIMS],
        /// B's stride over each output dim (0 where broadcast; `expand` ignores them).
        pub(crate) b_strides: [u32; MAX_DIMS],
        /// Output index of this dispatch's first element (a piece of a tensor
        /// larger than one binding).
        pub(crate) first: u32,
        /// Element of A where A's bound window starts (subtracted from its offsets).
        pub(crate) a_origin: u32,
        /// Element of B where B's bound window starts.
        pub(crate) b_origin: u32,
        /// Where output element `first` lies in the output's bound window.
        pub(crate) out_base: u32,
    }
}

params_struct! {
    /// `WhereParams` (`shaders/select.wgsl`): broadcasting of three operands over the output's dims.
    WhereParams {
        /// Output elements of this dispatch.
        pub(crate) n: u32,
        /// Output rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Output shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// The condition's stride over each output dim (0 where broadcast).
        pub(crate) c_strides: [u32; MAX_DIMS],
        /// X's stride over each output dim.
        pub(crate) x_strides: [u32; MAX_DIMS],
        /// Y's stride over each output dim.
        pub(crate) y_strides: [u32; MAX_DIMS],
        /// Output index of this dispatch's first element.
        pub(crate) first: u32,
        /// Element of the condition where its bound window starts.
        pub(crate) c_origin: u32,
        /// Element of X where its bound window starts.
        pub(crate) x_origin: u32,
        /// Element of Y where its bound window starts.
        pub(crate) y_origin: u32,
        /// Where output element `first` lies in the output's bound window.
        pub(crate) out_base: u32,
    }
}

params_struct! {
    /// `UnaryParams` (`shaders/unary.wgsl`).
    UnaryParams {
        /// Elements.
        pub(crate) n: u32,
        /// 0 Relu, 1 Sigmoid, 2 Silu, 3 Exp, 4 Tanh, 5 Neg, 6 Sqrt, 7 Reciprocal,
        /// 8 Gelu (erf form), 9 Gelu (tanh form), 10 Abs, 11 Erf, 12 Floor,
        /// 13 Ceil, 14 Round, 15 Not, 16 LeakyRelu, 17 HardSigmoid.
        pub(crate) op: u32,
        /// LeakyRelu's and HardSigmoid's alpha (0 for the other ops).
        pub(crate) alpha: f32,
        /// HardSigmoid's beta (0 for the other ops).
        pub(crate) beta: f32,
        /// GatedUnary's half width N (0 for the other ops).
        pub(crate) half: u32,
    }
}

params_struct! {
    /// `ConvertParams` (`shaders/convert.wgsl`).
    ConvertParams {
        /// Elements.
        pub(crate) n: u32,
    }
}

params_struct! {
    /// `ReduceParams` (`shaders/reduce.wgsl`).
    ReduceParams {
        /// Output elements.
        pub(crate) outputs: u32,
        /// 0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 l2.
        pub(crate) op: u32,
        /// Input rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Inputs reduced into each output.
        pub(crate) count: u32,
        /// Input shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// Input strides.
        pub(crate) strides: [u32; MAX_DIMS],
        /// 1 where the axis is reduced.
        pub(crate) reduced: [u32; MAX_DIMS],
        /// Output index of this dispatch's first output (a piece of a
        /// tensor larger than one binding).
        pub(crate) first: u32,
        /// Element of X where X's bound window starts (subtracted from its offsets).
        pub(crate) x_origin: u32,
        /// Where output `first` lies in Y's bound window.
        pub(crate) y_base: u32,
        /// `reduce_partial`: inputs folded into one partial state (the last
        /// chunk of an output may be shorter).
        pub(crate) chunk: u32,
        /// `reduce_partial`: chunks per output; `reduce_combine`: states per
        /// output in X.
        pub(crate) chunks: u32,
        /// `reduce_partial`: the chunk every output folds in this dispatch
        /// (a pass), or `u32::MAX` for one invocation per (output, chunk).
        pub(crate) pass_chunk: u32,
        /// `reduce_partial` in passes: 1 to fold into the state Y holds.
        pub(crate) accumulate: u32,
        /// `reduce_combine`: states folded into one.
        pub(crate) fan_in: u32,
        /// `reduce_combine`: states written per output (`chunks / fan_in`
        /// rounded up).
        pub(crate) groups: u32,
        /// `reduce_combine`: 1 to write results instead of states.
        pub(crate) finish: u32,
    }
}

params_struct! {
    /// `AlongAxisParams` (`shaders/along_axis.wgsl`): ArgMax/ArgMin and
    /// CumSum over the tensor as `[outer, len, inner]`.
    AlongAxisParams {
        /// Lanes (`outer * inner`) of this dispatch.
        pub(crate) lanes: u32,
        /// Elements per lane (at least 1 for the arg-reductions).
        pub(crate) len: u32,
        /// Stride between a lane's elements.
        pub(crate) inner: u32,
        /// `arg_extreme`: 1 largest (ArgMax), 2 select_last_index;
        /// `cumsum`: 1 exclusive, 2 reverse.
        pub(crate) flags: u32,
        /// Where this dispatch's first lane starts in X's bound window.
        pub(crate) x_base: u32,
        /// Where it starts in Y's bound window (in Y's elements: i64 indices
        /// for `arg_extreme`, f32 for `cumsum`).
        pub(crate) y_base: u32,
        /// The `*_segment` entries: the first step along the axis this
        /// dispatch takes (lanes longer than one binding or than the CPU
        /// drivers' loop budget run in segments, one dispatch each).
        pub(crate) seg_first: u32,
        /// One past its last step.
        pub(crate) seg_end: u32,
        /// 1: continue from the lane states (a segment after the first).
        pub(crate) carry: u32,
        /// `arg_extreme_segment`: 1 to write the indices (the last segment).
        pub(crate) finish: u32,
        /// Where the dispatch's first lane's state lies in the bound window
        /// of the states (in words).
        pub(crate) s_base: u32,
    }
}
