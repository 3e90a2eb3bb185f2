//! [`Pictures`]: what `host run --trace FILE --html FILE` draws of the run, from its report alone. The files
//! are checked (and their temporary files made) before the run, as `--json`'s is; a copy of the
//! report is kept in memory while the run goes, read back at the end as `host report` reads a
//! saved one, and drawn.

use std::path::{Path, PathBuf};

use crate::{
    cli::{error::HostError, stdio, verbosity::ui},
    report::{ReportHead, ReportWriter, file::ReportFile, html, read::SavedReport, trace},
    runner::{Event, Flow, Reporter},
};

/// The pictures a run was asked for, their files made before it starts.
#[derive(Debug, Default)]
pub struct Pictures {
    /// `--trace FILE`.
    trace: Option<ReportFile>,
    /// `--html FILE`.
    html: Option<ReportFile>,
}

impl Pictures {
    /// The pictures `--trace` and `--html` ask for; each must be a file of its own, not the
    /// other's nor `json` (the `--json` path).
    pub fn resolve(
        trace: Option<&Path>,
        html: Option<&Path>,
        json: Option<&Path>,
    ) -> Result<Self, HostError> {
        let named = [("--json", json), ("--trace", trace), ("--html", html)];
        for (index, (flag, path)) in named.iter().enumerate() {
            let Some(path) = path else { continue };
            for (other, other_path) in &named[..index] {
                if other_path.is_some_and(|other_path| same_file(other_path, path)) {
                    return Err(HostError::Usage(format!(
                        "{flag} {} is the {other} file too; give each its own path",
                        path.display()
                    )));
                }
            }
        }
        Ok(Pictures {
            trace: trace
                .map(|path| ReportFile::create_for("--trace", path))
                .transpose()?,
            html: html
                .map(|path| ReportFile::create_for("--html", path))
                .transpose()?,
        })
    }

    /// The temporary files to remove if the host ends before the run does.
    pub fn temporary_paths(&self) -> Vec<PathBuf> {
        self.trace
            .iter()
            .chain(&self.html)
            .map(|file| file.temporary_path().to_path_buf())
            .collect()
    }

    /// Whether any picture was asked for.
    pub fn wanted(&self) -> bool {
        self.trace.is_some() || self.html.is_some()
    }

    /// The reporter that keeps the report for the pictures, around `outputs`; `head` makes the
    /// report's head.
    pub fn around<'a>(
        self,
        outputs: &'a mut dyn Reporter,
        head: impl Fn() -> ReportHead,
    ) -> Drawing<'a> {
        let copy = self.wanted().then(|| ReportWriter::new(Vec::new(), head()));
        Drawing {
            outputs,
            copy,
            pictures: self,
        }
    }
}

/// Whether `a` and `b` name the same file (or the same path, before either exists).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(a).ok() == std::path::absolute(b).ok(),
    }
}

/// A run's reporters with the report kept for its pictures.
pub struct Drawing<'a> {
    outputs: &'a mut dyn Reporter,
    copy: Option<ReportWriter<Vec<u8>>>,
    pictures: Pictures,
}

impl Reporter for Drawing<'_> {
    fn report(&mut self, event: &Event) -> Flow {
        if let Some(copy) = &mut self.copy {
            // Into memory: it cannot fail, and it never stops the run.
            let _ = copy.report(event);
        }
        self.outputs.report(event)
    }

    fn wants_task_started(&self) -> bool {
        self.outputs.wants_task_started()
    }
}

impl Drawing<'_> {
    /// The run is over: the report kept, and the pictures to draw from it.
    pub fn done(self) -> Drawn {
        Drawn {
            copy: self.copy,
            pictures: self.pictures,
        }
    }
}

/// The report of a run that ended, and the pictures to draw from it.
pub struct Drawn {
    copy: Option<ReportWriter<Vec<u8>>>,
    pictures: Pictures,
}

impl Drawn {
    /// Draws the pictures from the report (saying so, unless `quietly`).
    pub fn finish(self, quietly: bool) -> Result<(), HostError> {
        let Some(copy) = self.copy else {
            return Ok(());
        };
        let bytes = copy.finish().map_err(HostError::Output)?;
        let report = SavedReport::parse(Path::new("the run's report"), &bytes)?;
        let say = |what: &str, path: &Path| {
            if !ui().quiet && !quietly {
                stdio::note(format_args!("{what} written to {}", path.display()));
            }
        };
        if let Some(file) = self.pictures.trace {
            let path = file.path().to_path_buf();
            trace::write(&report, file)?;
            say("trace", &path);
        }
        if let Some(file) = self.pictures.html {
            let path = file.path().to_path_buf();
            html::write(&[&report], None, file)?;
            say("HTML report", &path);
        }
        Ok(())
    }
}
