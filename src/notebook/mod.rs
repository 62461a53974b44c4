//! Notebooks: the `.ipynb` model, the cell → program translation, display helpers that work in
//! the evcxr kernel and headless, and the executor with its execution cache.

pub mod chapters;
pub mod display;
#[cfg(feature = "tool")]
pub mod exec;
pub mod model;
#[cfg(feature = "tool")]
pub mod program;

pub use display::EvcxrDisplay;
#[cfg(feature = "tool")]
pub use exec::{Engine, Execution, Inputs, Status};
pub use model::Notebook;
