//! The function table: every PromQL function with its argument types, how many
//! optional arguments it takes, its return type and whether Prometheus gates it
//! behind `--enable-feature=promql-experimental-functions`.
//!
//! The evaluator dispatches on [`Function`], a stable identity; a call node holds a
//! `&'static FunctionSpec` from [`FUNCTIONS`]. `holt_winters` (Prometheus 2's name) is
//! accepted as an alias of `double_exponential_smoothing`: same identity, its own name
//! so the query prints back as written.

use super::types::ValueType;

/// The identity of a PromQL function, for dispatch in the evaluator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Function {
    /// `abs`
    Abs,
    /// `absent`
    Absent,
    /// `absent_over_time`
    AbsentOverTime,
    /// `acos`
    Acos,
    /// `acosh`
    Acosh,
    /// `asin`
    Asin,
    /// `asinh`
    Asinh,
    /// `atan`
    Atan,
    /// `atanh`
    Atanh,
    /// `avg_over_time`
    AvgOverTime,
    /// `ceil`
    Ceil,
    /// `changes`
    Changes,
    /// `clamp`
    Clamp,
    /// `clamp_max`
    ClampMax,
    /// `clamp_min`
    ClampMin,
    /// `cos`
    Cos,
    /// `cosh`
    Cosh,
    /// `count_over_time`
    CountOverTime,
    /// `days_in_month`
    DaysInMonth,
    /// `day_of_month`
    DayOfMonth,
    /// `day_of_week`
    DayOfWeek,
    /// `day_of_year`
    DayOfYear,
    /// `deg`
    Deg,
    /// `delta`
    Delta,
    /// `deriv`
    Deriv,
    /// `double_exponential_smoothing`
    DoubleExponentialSmoothing,
    /// `end`
    End,
    /// `exp`
    Exp,
    /// `first_over_time`
    FirstOverTime,
    /// `floor`
    Floor,
    /// `histogram_avg`
    HistogramAvg,
    /// `histogram_count`
    HistogramCount,
    /// `histogram_fraction`
    HistogramFraction,
    /// `histogram_quantile`
    HistogramQuantile,
    /// `histogram_quantiles`
    HistogramQuantiles,
    /// `histogram_stddev`
    HistogramStddev,
    /// `histogram_stdvar`
    HistogramStdvar,
    /// `histogram_sum`
    HistogramSum,
    /// `hour`
    Hour,
    /// `idelta`
    Idelta,
    /// `increase`
    Increase,
    /// `info`
    Info,
    /// `integral`
    Integral,
    /// `irate`
    Irate,
    /// `label_join`
    LabelJoin,
    /// `label_replace`
    LabelReplace,
    /// `last_over_time`
    LastOverTime,
    /// `ln`
    Ln,
    /// `log10`
    Log10,
    /// `log2`
    Log2,
    /// `mad_over_time`
    MadOverTime,
    /// `max_over_time`
    MaxOverTime,
    /// `min_over_time`
    MinOverTime,
    /// `minute`
    Minute,
    /// `month`
    Month,
    /// `pi`
    Pi,
    /// `predict_linear`
    PredictLinear,
    /// `present_over_time`
    PresentOverTime,
    /// `quantile_over_time`
    QuantileOverTime,
    /// `rad`
    Rad,
    /// `range`
    Range,
    /// `rate`
    Rate,
    /// `resets`
    Resets,
    /// `round`
    Round,
    /// `scalar`
    Scalar,
    /// `sgn`
    Sgn,
    /// `sin`
    Sin,
    /// `sinh`
    Sinh,
    /// `sort`
    Sort,
    /// `sort_by_label`
    SortByLabel,
    /// `sort_by_label_desc`
    SortByLabelDesc,
    /// `sort_desc`
    SortDesc,
    /// `sqrt`
    Sqrt,
    /// `start`
    Start,
    /// `stddev_over_time`
    StddevOverTime,
    /// `stdvar_over_time`
    StdvarOverTime,
    /// `step`
    Step,
    /// `sum_over_time`
    SumOverTime,
    /// `tan`
    Tan,
    /// `tanh`
    Tanh,
    /// `time`
    Time,
    /// `timestamp`
    Timestamp,
    /// `ts_of_first_over_time`
    TsOfFirstOverTime,
    /// `ts_of_last_over_time`
    TsOfLastOverTime,
    /// `ts_of_max_over_time`
    TsOfMaxOverTime,
    /// `ts_of_min_over_time`
    TsOfMinOverTime,
    /// `vector`
    Vector,
    /// `year`
    Year,
    /// `min_of`
    MinOf,
    /// `max_of`
    MaxOf,
    /// `start_timestamp`
    StartTimestamp,
}

/// A function's signature as Prometheus' `parser.Function` describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct FunctionSpec {
    /// The name as written in queries (case-sensitive).
    pub name: &'static str,
    /// The identity the evaluator dispatches on.
    pub function: Function,
    /// The argument types in order. With `variadic != 0` the last one is optional
    /// and (when `variadic` is -1 or above 1) repeatable.
    pub arg_types: &'static [ValueType],
    /// 0: exactly `arg_types.len()` arguments; n > 0: the last argument may appear
    /// 0 to n times; -1: the last argument may appear any number of times.
    pub variadic: i32,
    /// The type of the result.
    pub return_type: ValueType,
    /// Whether Prometheus needs `promql-experimental-functions` for it.
    pub experimental: bool,
}

impl FunctionSpec {
    /// The fewest arguments a call may have.
    pub fn min_args(&self) -> usize {
        if self.variadic == 0 {
            self.arg_types.len()
        } else {
            self.arg_types.len().saturating_sub(1)
        }
    }

    /// The most arguments a call may have, `None` when unbounded.
    pub fn max_args(&self) -> Option<usize> {
        match usize::try_from(self.variadic) {
            Ok(extra) => Some(self.min_args() + extra),
            Err(_) => None,
        }
    }

    /// The type the argument at `index` must have, `None` past the last allowed one.
    pub fn arg_type(&self, index: usize) -> Option<ValueType> {
        match self.arg_types.get(index) {
            Some(&t) => Some(t),
            None if self.variadic != 0 => self.arg_types.last().copied(),
            None => None,
        }
    }
}

/// Looks a function up by its exact name.
pub fn lookup(name: &str) -> Option<&'static FunctionSpec> {
    FUNCTIONS.iter().find(|spec| spec.name == name)
}

/// Every function, sorted by name.
pub static FUNCTIONS: &[FunctionSpec] = &[
    FunctionSpec {
        name: "abs",
        function: Function::Abs,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "absent",
        function: Function::Absent,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "absent_over_time",
        function: Function::AbsentOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "acos",
        function: Function::Acos,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "acosh",
        function: Function::Acosh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "asin",
        function: Function::Asin,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "asinh",
        function: Function::Asinh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "atan",
        function: Function::Atan,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "atanh",
        function: Function::Atanh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "avg_over_time",
        function: Function::AvgOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "ceil",
        function: Function::Ceil,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "changes",
        function: Function::Changes,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "clamp",
        function: Function::Clamp,
        arg_types: &[ValueType::Vector, ValueType::Scalar, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "clamp_max",
        function: Function::ClampMax,
        arg_types: &[ValueType::Vector, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "clamp_min",
        function: Function::ClampMin,
        arg_types: &[ValueType::Vector, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "cos",
        function: Function::Cos,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "cosh",
        function: Function::Cosh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "count_over_time",
        function: Function::CountOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "day_of_month",
        function: Function::DayOfMonth,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "day_of_week",
        function: Function::DayOfWeek,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "day_of_year",
        function: Function::DayOfYear,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "days_in_month",
        function: Function::DaysInMonth,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "deg",
        function: Function::Deg,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "delta",
        function: Function::Delta,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "deriv",
        function: Function::Deriv,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "double_exponential_smoothing",
        function: Function::DoubleExponentialSmoothing,
        arg_types: &[ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "end",
        function: Function::End,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "exp",
        function: Function::Exp,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "first_over_time",
        function: Function::FirstOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "floor",
        function: Function::Floor,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_avg",
        function: Function::HistogramAvg,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_count",
        function: Function::HistogramCount,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_fraction",
        function: Function::HistogramFraction,
        arg_types: &[ValueType::Scalar, ValueType::Scalar, ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_quantile",
        function: Function::HistogramQuantile,
        arg_types: &[ValueType::Scalar, ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_quantiles",
        function: Function::HistogramQuantiles,
        arg_types: &[
            ValueType::Vector,
            ValueType::String,
            ValueType::Scalar,
            ValueType::Scalar,
        ],
        variadic: 9,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "histogram_stddev",
        function: Function::HistogramStddev,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_stdvar",
        function: Function::HistogramStdvar,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "histogram_sum",
        function: Function::HistogramSum,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "holt_winters",
        function: Function::DoubleExponentialSmoothing,
        arg_types: &[ValueType::Matrix, ValueType::Scalar, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "hour",
        function: Function::Hour,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "idelta",
        function: Function::Idelta,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "increase",
        function: Function::Increase,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "info",
        function: Function::Info,
        arg_types: &[ValueType::Vector, ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "integral",
        function: Function::Integral,
        arg_types: &[ValueType::Matrix, ValueType::Scalar],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "irate",
        function: Function::Irate,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "label_join",
        function: Function::LabelJoin,
        arg_types: &[
            ValueType::Vector,
            ValueType::String,
            ValueType::String,
            ValueType::String,
        ],
        variadic: -1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "label_replace",
        function: Function::LabelReplace,
        arg_types: &[
            ValueType::Vector,
            ValueType::String,
            ValueType::String,
            ValueType::String,
            ValueType::String,
        ],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "last_over_time",
        function: Function::LastOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "ln",
        function: Function::Ln,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "log10",
        function: Function::Log10,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "log2",
        function: Function::Log2,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "mad_over_time",
        function: Function::MadOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "max_of",
        function: Function::MaxOf,
        arg_types: &[ValueType::Scalar, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "max_over_time",
        function: Function::MaxOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "min_of",
        function: Function::MinOf,
        arg_types: &[ValueType::Scalar, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "min_over_time",
        function: Function::MinOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "minute",
        function: Function::Minute,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "month",
        function: Function::Month,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "pi",
        function: Function::Pi,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: false,
    },
    FunctionSpec {
        name: "predict_linear",
        function: Function::PredictLinear,
        arg_types: &[ValueType::Matrix, ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "present_over_time",
        function: Function::PresentOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "quantile_over_time",
        function: Function::QuantileOverTime,
        arg_types: &[ValueType::Scalar, ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "rad",
        function: Function::Rad,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "range",
        function: Function::Range,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "rate",
        function: Function::Rate,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "resets",
        function: Function::Resets,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "round",
        function: Function::Round,
        arg_types: &[ValueType::Vector, ValueType::Scalar],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "scalar",
        function: Function::Scalar,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: false,
    },
    FunctionSpec {
        name: "sgn",
        function: Function::Sgn,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "sin",
        function: Function::Sin,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "sinh",
        function: Function::Sinh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "sort",
        function: Function::Sort,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "sort_by_label",
        function: Function::SortByLabel,
        arg_types: &[ValueType::Vector, ValueType::String],
        variadic: -1,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "sort_by_label_desc",
        function: Function::SortByLabelDesc,
        arg_types: &[ValueType::Vector, ValueType::String],
        variadic: -1,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "sort_desc",
        function: Function::SortDesc,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "sqrt",
        function: Function::Sqrt,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "start",
        function: Function::Start,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "start_timestamp",
        function: Function::StartTimestamp,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "stddev_over_time",
        function: Function::StddevOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "stdvar_over_time",
        function: Function::StdvarOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "step",
        function: Function::Step,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: true,
    },
    FunctionSpec {
        name: "sum_over_time",
        function: Function::SumOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "tan",
        function: Function::Tan,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "tanh",
        function: Function::Tanh,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "time",
        function: Function::Time,
        arg_types: &[],
        variadic: 0,
        return_type: ValueType::Scalar,
        experimental: false,
    },
    FunctionSpec {
        name: "timestamp",
        function: Function::Timestamp,
        arg_types: &[ValueType::Vector],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "ts_of_first_over_time",
        function: Function::TsOfFirstOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "ts_of_last_over_time",
        function: Function::TsOfLastOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "ts_of_max_over_time",
        function: Function::TsOfMaxOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "ts_of_min_over_time",
        function: Function::TsOfMinOverTime,
        arg_types: &[ValueType::Matrix],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: true,
    },
    FunctionSpec {
        name: "vector",
        function: Function::Vector,
        arg_types: &[ValueType::Scalar],
        variadic: 0,
        return_type: ValueType::Vector,
        experimental: false,
    },
    FunctionSpec {
        name: "year",
        function: Function::Year,
        arg_types: &[ValueType::Vector],
        variadic: 1,
        return_type: ValueType::Vector,
        experimental: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in FUNCTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} !< {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn arity() {
        let round = lookup("round").unwrap();
        assert_eq!((round.min_args(), round.max_args()), (1, Some(2)));
        let join = lookup("label_join").unwrap();
        assert_eq!((join.min_args(), join.max_args()), (3, None));
        assert_eq!(join.arg_type(7), Some(ValueType::String));
        let hour = lookup("hour").unwrap();
        assert_eq!((hour.min_args(), hour.max_args()), (0, Some(1)));
        let rate = lookup("rate").unwrap();
        assert_eq!(rate.arg_type(1), None);
        assert_eq!(
            lookup("holt_winters").map(|s| s.function),
            Some(Function::DoubleExponentialSmoothing)
        );
        assert!(lookup("Rate").is_none());
    }
}
