//! `wsgi.file_wrapper`: [`FileWrapper`], and its fast path, a real file sent
//! by Rust without the GIL.

use std::io::{Seek, SeekFrom};

use pyo3::prelude::*;

/// The block size of `wsgi.file_wrapper` when the app gives none.
pub const FILE_WRAPPER_BLOCK_SIZE: usize = 8192;

/// `wsgi.file_wrapper(filelike, blksize=8192)`. Returned by the app, a real
/// file (with `fileno()`) is sent by Rust without the GIL; otherwise (or when
/// a Python middleware iterates it) it yields `filelike.read(blksize)` blocks.
/// `close()` closes the file.
#[pyclass(module = "gateway", name = "FileWrapper", frozen)]
#[derive(Debug)]
pub struct FileWrapper {
    pub(crate) filelike: Py<PyAny>,
    pub(crate) blksize: usize,
}

#[pymethods]
impl FileWrapper {
    #[new]
    #[pyo3(signature = (filelike, blksize = FILE_WRAPPER_BLOCK_SIZE))]
    fn new(filelike: Py<PyAny>, blksize: usize) -> Self {
        FileWrapper {
            filelike,
            blksize: blksize.max(1),
        }
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let block = self
            .filelike
            .bind(py)
            .call_method1("read", (self.blksize,))?;
        Ok((block.len().unwrap_or(0) > 0).then_some(block))
    }

    /// Close the file, if it has `close()`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let filelike = self.filelike.bind(py);
        if filelike.hasattr("close")? {
            filelike.call_method0("close")?;
        }
        Ok(())
    }
}

/// The fast path of `wsgi.file_wrapper`: a regular file with a `fileno()`,
/// reopened from Rust at its current position (no `unsafe` fd adoption:
/// through `/proc/self/fd` on Linux; elsewhere the blocks are iterated).
pub(crate) fn real_file(filelike: &Bound<'_, PyAny>) -> Option<(std::fs::File, u64)> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let fd: i64 = filelike.call_method0("fileno").ok()?.extract().ok()?;
    let pos: u64 = filelike.call_method0("tell").ok()?.extract().ok()?;
    // Checked before opening: opening a FIFO could block.
    let path = format!("/proc/self/fd/{fd}");
    if !std::fs::metadata(&path).ok()?.is_file() {
        return None;
    }
    let mut file = std::fs::File::open(&path).ok()?;
    let meta = file.metadata().ok()?;
    file.seek(SeekFrom::Start(pos)).ok()?;
    Some((file, meta.len().saturating_sub(pos)))
}
