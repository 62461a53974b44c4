//! Notebooks: the `.ipynb` model, the cell → program translation, display helpers that work in
//! the evcxr kernel and headless, and the executor with its execution cache.

pub mod display;
pub mod exec;
pub mod model;
pub mod program;

pub use display::EvcxrDisplay;
pub use exec::{Engine, Execution, Inputs, Status};
pub use model::Notebook;
