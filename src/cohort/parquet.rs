//! Parquet files as named columns, through Apache Arrow's `parquet` crate (its Arrow reader and
//! writer). The study reads and writes parquet only here: YAIB's `dyn.parquet`, a ready design
//! matrix, and the matrix the `data build` command writes. Arrow's reader compiles in a fraction
//! of the time polars took, which is what the first `:dep` cell of every notebook waits for.

use crate::error::{Error, Result};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use num_traits::ToPrimitive;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of one parquet file that a reader asked for, each as one array.
pub struct Columns {
    path: PathBuf,
    header: Vec<String>,
    names: Vec<String>,
    arrays: Vec<ArrayRef>,
    rows: usize,
}

/// Read `wanted` columns of `path` (those present; asking for an absent column is not an error
/// until it is used, so optional columns can be probed).
pub fn read(path: &Path, wanted: &[&str]) -> Result<Columns> {
    let bad = |why: String| Error::bad_file(path, format!("cannot read parquet: {why}"));
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
    let schema = builder.schema().clone();
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    // the reader returns projected columns in file order, whatever order they were asked in
    let mut roots: Vec<usize> = wanted
        .iter()
        .filter_map(|w| header.iter().position(|h| h == w))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let batches = reader
        .collect::<std::result::Result<Vec<RecordBatch>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let projected = Arc::new(schema.project(&roots).map_err(|e| bad(e.to_string()))?);
    let batch = arrow_select::concat::concat_batches(&projected, &batches)
        .map_err(|e| bad(e.to_string()))?;
    Ok(Columns {
        path: path.to_path_buf(),
        names: projected
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        arrays: batch.columns().to_vec(),
        rows: batch.num_rows(),
        header,
    })
}

impl Columns {
    pub fn n_rows(&self) -> usize {
        self.rows
    }

    fn array(&self, name: &str) -> Result<&ArrayRef> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.arrays[i])
            .ok_or_else(|| Error::MissingColumn {
                file: self.path.clone(),
                column: name.to_string(),
                header: self.header.join(","),
            })
    }

    /// A numeric column as `f64` (`None` where null): floats, integers of any width, booleans
    /// as 0/1, durations as their ticks.
    pub fn f64(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let a = self.array(name)?;
        numbers(a.as_ref()).ok_or_else(|| {
            Error::bad_file(
                &self.path,
                format!("column {name} is {}, not numbers", a.data_type()),
            )
        })
    }

    /// A duration column in hours; plain numbers are taken as hours already.
    pub fn hours(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let per_hour = match self.array(name)?.data_type() {
            DataType::Duration(TimeUnit::Second) => 3.6e3,
            DataType::Duration(TimeUnit::Millisecond) => 3.6e6,
            DataType::Duration(TimeUnit::Microsecond) => 3.6e9,
            DataType::Duration(TimeUnit::Nanosecond) => 3.6e12,
            _ => 1.0,
        };
        Ok(self
            .f64(name)?
            .into_iter()
            .map(|v| v.map(|t| t / per_hour))
            .collect())
    }

    /// A column as text (numbers as written, whole numbers without a decimal point), or `None`
    /// when the file has no such column or its type is neither text nor numbers.
    pub fn strings(&self, name: &str) -> Option<Vec<Option<String>>> {
        let a = self.array(name).ok()?;
        let owned = |it: &mut dyn Iterator<Item = Option<&str>>| {
            it.map(|v| v.map(str::to_string)).collect::<Vec<_>>()
        };
        match a.data_type() {
            DataType::Utf8 => Some(owned(&mut a.as_string::<i32>().iter())),
            DataType::LargeUtf8 => Some(owned(&mut a.as_string::<i64>().iter())),
            DataType::Utf8View => Some(owned(&mut a.as_string_view().iter())),
            _ => Some(
                numbers(a.as_ref())?
                    .into_iter()
                    .map(|v| v.map(|x| x.to_string()))
                    .collect(),
            ),
        }
    }
}

/// The values of a numeric array as `f64`, or `None` for any other type. Written out rather than
/// taken from `arrow-cast`: that crate (with `arrow-ord` and its number parsers) was a fifth of
/// what the first `:dep` cell of a notebook compiled, for these few lines.
fn numbers(a: &dyn Array) -> Option<Vec<Option<f64>>> {
    fn prim<T: ArrowPrimitiveType>(a: &dyn Array) -> Vec<Option<f64>>
    where
        T::Native: ToPrimitive,
    {
        a.as_primitive::<T>()
            .iter()
            .map(|v| v.and_then(|x| x.to_f64()))
            .collect()
    }
    use arrow_array::types::*;
    Some(match a.data_type() {
        DataType::Float64 => prim::<Float64Type>(a),
        DataType::Float32 => prim::<Float32Type>(a),
        DataType::Int64 => prim::<Int64Type>(a),
        DataType::Int32 => prim::<Int32Type>(a),
        DataType::Int16 => prim::<Int16Type>(a),
        DataType::Int8 => prim::<Int8Type>(a),
        DataType::UInt64 => prim::<UInt64Type>(a),
        DataType::UInt32 => prim::<UInt32Type>(a),
        DataType::UInt16 => prim::<UInt16Type>(a),
        DataType::UInt8 => prim::<UInt8Type>(a),
        DataType::Duration(TimeUnit::Second) => prim::<DurationSecondType>(a),
        DataType::Duration(TimeUnit::Millisecond) => prim::<DurationMillisecondType>(a),
        DataType::Duration(TimeUnit::Microsecond) => prim::<DurationMicrosecondType>(a),
        DataType::Duration(TimeUnit::Nanosecond) => prim::<DurationNanosecondType>(a),
        DataType::Boolean => a
            .as_boolean()
            .iter()
            .map(|v| v.map(|b| f64::from(u8::from(b))))
            .collect(),
        _ => return None,
    })
}

/// Write `f64` columns (NaN = missing, stored as null), snappy-compressed.
pub fn write(path: &Path, names: &[String], columns: &[Vec<f64>]) -> Result<()> {
    let bad = |why: String| Error::bad_file(path, format!("cannot write parquet: {why}"));
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(n, DataType::Float64, true))
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| {
            let a: Float64Array = c.iter().map(|v| (!v.is_nan()).then_some(*v)).collect();
            Arc::new(a) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| bad(e.to_string()))?;
    write_batch(path, &batch)
}

/// Write one record batch as a snappy-compressed parquet file.
fn write_batch(path: &Path, batch: &RecordBatch) -> Result<()> {
    let bad = |why: String| Error::bad_file(path, format!("cannot write parquet: {why}"));
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut w =
        ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(|e| bad(e.to_string()))?;
    w.write(batch).map_err(|e| bad(e.to_string()))?;
    w.close().map_err(|e| bad(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_values_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.parquet");
        let names = vec!["a".to_string(), "b".to_string()];
        write(&p, &names, &[vec![1.5, f64::NAN], vec![-2.0, 7.25]]).unwrap();
        let c = read(&p, &["b", "a", "absent"]).unwrap();
        assert_eq!(c.n_rows(), 2);
        assert_eq!(c.f64("a").unwrap(), vec![Some(1.5), None]);
        assert_eq!(c.f64("b").unwrap(), vec![Some(-2.0), Some(7.25)]);
        match c.f64("absent") {
            Err(Error::MissingColumn { column, header, .. }) => {
                assert_eq!(column, "absent");
                assert_eq!(header, "a,b");
            }
            other => panic!("expected a missing column, got {:?}", other.map(|_| ())),
        }
        assert_eq!(c.strings("a").unwrap()[0].as_deref(), Some("1.5"));
        assert_eq!(c.hours("b").unwrap(), vec![Some(-2.0), Some(7.25)]);
    }

    #[test]
    fn durations_become_hours_in_every_unit() {
        use arrow_array::{DurationMillisecondArray, DurationSecondArray};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.parquet");
        let s: ArrayRef = Arc::new(DurationSecondArray::from(vec![Some(7200), None]));
        let ms: ArrayRef = Arc::new(DurationMillisecondArray::from(vec![Some(5_400_000), None]));
        let batch = RecordBatch::try_from_iter([("s", s), ("ms", ms)]).unwrap();
        write_batch(&p, &batch).unwrap();
        let c = read(&p, &["s", "ms"]).unwrap();
        assert_eq!(c.hours("s").unwrap(), vec![Some(2.0), None]);
        assert_eq!(c.hours("ms").unwrap(), vec![Some(1.5), None]);
    }

    #[test]
    fn integers_booleans_and_text_columns() {
        use arrow_array::{BooleanArray, Int32Array, StringArray};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.parquet");
        let i: ArrayRef = Arc::new(Int32Array::from(vec![Some(141765), None]));
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), Some(false)]));
        let t: ArrayRef = Arc::new(StringArray::from(vec![Some("002-34851"), None]));
        let batch = RecordBatch::try_from_iter([("i", i), ("b", b), ("t", t)]).unwrap();
        write_batch(&p, &batch).unwrap();
        let c = read(&p, &["t", "i", "b"]).unwrap();
        assert_eq!(c.f64("i").unwrap(), vec![Some(141765.0), None]);
        assert_eq!(c.f64("b").unwrap(), vec![Some(1.0), Some(0.0)]);
        assert_eq!(c.strings("i").unwrap()[0].as_deref(), Some("141765"));
        assert_eq!(c.strings("t").unwrap()[0].as_deref(), Some("002-34851"));
        let e = c.f64("t").err().unwrap().to_string();
        assert!(
            e.contains("t.parquet") && e.contains("column t is Utf8"),
            "{e}"
        );
    }

    #[test]
    fn a_file_that_is_not_parquet_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.parquet");
        std::fs::write(&p, "stay_id,time\n1,2\n").unwrap();
        let e = read(&p, &["stay_id"]).err().unwrap().to_string();
        assert!(
            e.contains("x.parquet") && e.contains("cannot read parquet"),
            "{e}"
        );
    }
}
