//! Shell integration: `host completions SHELL` prints a completion script, `host man` the manual
//! pages (roff): `host.1` and one per command (`host-run.1`, `host-inspect.1`, ...), printed one at
//! a time or written all at once with `--dir`. Both are generated from the command line's own
//! definition, so they never drift from it. The text after a command's options (its examples, its
//! notes, the exit codes) becomes sections of their own: the exit codes a list (`EXIT STATUS`),
//! the examples kept line by line.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Outcome};
use crate::cli::error::HostError;

/// How to install each shell's script, as `host completions --help` and the README say it. Every
/// indented line is a command that works as written in a fresh home directory.
pub const COMPLETIONS_INSTALL: &str = "\
Install for bash (the bash-completion package reads the directory when a shell starts):
  mkdir -p ~/.local/share/bash-completion/completions
  host completions bash > ~/.local/share/bash-completion/completions/host
Without the bash-completion package, have ~/.bashrc read the script:
  echo 'source ~/.local/share/bash-completion/completions/host' >> ~/.bashrc

Install for zsh (a directory on fpath, then compinit, in ~/.zshrc):
  mkdir -p ~/.zfunc
  host completions zsh > ~/.zfunc/_host
  echo 'fpath=(~/.zfunc $fpath); autoload -Uz compinit && compinit' >> ~/.zshrc

Install for fish:
  mkdir -p ~/.config/fish/completions
  host completions fish > ~/.config/fish/completions/host.fish

A new shell then completes host's commands and options.";

/// Print a completion script for a shell on standard output.
#[derive(Debug, Args)]
#[command(after_help = COMPLETIONS_INSTALL)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, "host", &mut script);
        print(&script)
    }
}

const MAN_EXAMPLES: &str = "\
Examples:
  host man | man -l -
  host man run | man -l -
  host man --dir ~/.local/share/man/man1
  man -l ~/.local/share/man/man1/host-run.1

With the pages in ~/.local/share/man/man1, `MANPATH=~/.local/share/man: man host-run` reads
them by name (the trailing colon keeps the system's pages too).";

/// The commands that have a manual page of their own: every command `host --help` lists.
const PAGE_COMMANDS: [&str; 8] = [
    "run",
    "inspect",
    "list",
    "new",
    "compare",
    "report",
    "completions",
    "man",
];

/// Print the manual page of host or of one of its commands (roff), or write them all to a
/// directory.
#[derive(Debug, Args)]
#[command(after_help = MAN_EXAMPLES)]
pub struct ManArgs {
    /// The command whose page to print (host-COMMAND.1); without it, host's own page.
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(PAGE_COMMANDS))]
    command: Option<String>,

    /// Write every page (host.1, host-run.1, host-inspect.1, ...) into DIR, made if missing,
    /// instead of printing one.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    dir: Option<PathBuf>,
}

impl ManArgs {
    pub(super) fn exec(self) -> Result<Outcome, HostError> {
        let pages = pages();
        if let Some(dir) = &self.dir {
            return write_pages(dir, &pages);
        }
        let name = match &self.command {
            Some(command) => format!("host-{command}.1"),
            None => "host.1".to_owned(),
        };
        let page = pages
            .iter()
            .find(|(file, _)| *file == name)
            .map(|(_, page)| page.as_slice())
            .unwrap_or_default();
        print(page)
    }
}

/// Writes every page into `dir` and says so on stderr.
fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) -> Result<Outcome, HostError> {
    let failed = |path: &Path, source| HostError::ManPage {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| failed(dir, source))?;
    for (file, page) in pages {
        let path = dir.join(file);
        std::fs::write(&path, page).map_err(|source| failed(&path, source))?;
    }
    let names: Vec<&str> = pages.iter().map(|(file, _)| file.as_str()).collect();
    super::stdio::note(format_args!(
        "wrote {} manual pages to {}: {}",
        pages.len(),
        dir.display(),
        names.join(", ")
    ));
    Ok(Outcome::Success)
}

/// Every manual page, by file name: `host.1` first, then one per command.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut top = Cli::command().disable_help_subcommand(true);
    // Gives each command its page's name (`host-run`) and its synopsis (`host run`).
    top.build();
    let commands: Vec<clap::Command> = top
        .get_subcommands()
        .filter(|command| !command.is_hide_set())
        .cloned()
        .collect();
    let see_also: Vec<String> = commands
        .iter()
        .map(|command| format!("{}(1)", page_name(command)))
        .collect();
    let mut pages = vec![("host.1".to_owned(), page(&top, &see_also))];
    for command in commands {
        pages.push((
            format!("{}.1", page_name(&command)),
            page(&command, &["host(1)".to_owned()]),
        ));
    }
    pages
}

/// `host-run` for the `run` command.
fn page_name(command: &clap::Command) -> String {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_owned()
}

/// One command's page: clap_mangen's title, name, synopsis, description, options and commands,
/// then the command's own text after its options as sections, and SEE ALSO.
fn page(command: &clap::Command, see_also: &[String]) -> Vec<u8> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    let has_options = command.get_arguments().any(|arg| !arg.is_hide_set());
    let has_commands = command.get_subcommands().any(|sub| !sub.is_hide_set());
    // Writing into a Vec cannot fail.
    let _ = man
        .render_title(&mut page)
        .and_then(|()| man.render_name_section(&mut page))
        .and_then(|()| man.render_synopsis_section(&mut page))
        .and_then(|()| man.render_description_section(&mut page))
        .and_then(|()| match has_options {
            true => man.render_options_section(&mut page),
            false => Ok(()),
        })
        .and_then(|()| match has_commands {
            true => man.render_subcommands_section(&mut page),
            false => Ok(()),
        });
    if let Some(text) = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
    {
        page.extend_from_slice(text_sections(&text.to_string()).as_bytes());
    }
    page.extend_from_slice(b".SH \"SEE ALSO\"\n");
    page.extend_from_slice(escape(&see_also.join(", ")).as_bytes());
    page.push(b'\n');
    page
}

/// The text of a command's help after its options, as roff sections. Blocks are separated by
/// blank lines; a block headed `Exit codes:` is the EXIT STATUS section, one tagged paragraph per
/// code (its text may go on over more lines); a block headed by a line of its own that ends with
/// a colon (`Examples:`, `Install for bash ...:`) keeps its lines as they are, under a heading of
/// its name (`Examples`) or, for a longer heading, as a paragraph then the lines; any other block
/// is a paragraph of NOTES.
fn text_sections(text: &str) -> String {
    let mut roff = String::new();
    let mut in_notes = false;
    for block in text.split("\n\n") {
        let mut lines = block.lines();
        let Some(first) = lines.next() else { continue };
        let indented = |line: &str| line.starts_with(' ');
        if first == "Exit codes:" {
            roff.push_str(".SH \"EXIT STATUS\"\n");
            for line in lines {
                let trimmed = line.trim_start();
                let (code, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
                if !code.is_empty() && code.bytes().all(|byte| byte.is_ascii_digit()) {
                    roff.push_str(&format!(".TP\n.B {code}\n{}\n", escape(rest.trim())));
                } else {
                    roff.push_str(&escape(trimmed));
                    roff.push('\n');
                }
            }
            in_notes = false;
            continue;
        }
        let heading = first.strip_suffix(':').filter(|_| !indented(first));
        let commands: Vec<&str> = lines.clone().collect();
        if let Some(heading) = heading.filter(|_| commands.iter().any(|line| indented(line))) {
            if heading.split_whitespace().count() == 1 {
                roff.push_str(&format!(".SH {}\n", heading.to_uppercase()));
                in_notes = false;
            } else {
                if !in_notes {
                    roff.push_str(".SH NOTES\n");
                    in_notes = true;
                }
                roff.push_str(&format!(".PP\n{}:\n", escape(heading)));
            }
            // Kept line by line, unfilled: text on an indented line is a command to copy, and
            // text between them says what they are.
            roff.push_str(".PP\n.nf\n");
            for line in commands {
                roff.push_str(&escape(line));
                roff.push('\n');
            }
            roff.push_str(".fi\n");
            continue;
        }
        if !in_notes {
            roff.push_str(".SH NOTES\n");
            in_notes = true;
        }
        roff.push_str(".PP\n");
        for line in block.lines() {
            roff.push_str(&escape(line.trim()));
            roff.push('\n');
        }
    }
    roff
}

/// A line of text for roff: backslashes and hyphens escaped (a hyphen stays the ASCII minus a
/// flag needs when copied), and a line that would start with a control character made text.
fn escape(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Writes `bytes` to standard output; a closed pipe (`host man | head`) is not an error.
fn print(bytes: &[u8]) -> Result<Outcome, HostError> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(HostError::Output(error)),
        _ => Ok(Outcome::Success),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_command_has_a_page_and_every_page_a_listed_command() {
        let visible: Vec<String> = Cli::command()
            .get_subcommands()
            .filter(|command| !command.is_hide_set())
            .map(|command| command.get_name().to_owned())
            .collect();
        assert_eq!(visible, PAGE_COMMANDS);
        let names: Vec<String> = pages().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names[0], "host.1");
        for command in PAGE_COMMANDS {
            assert!(names.contains(&format!("host-{command}.1")), "{names:?}");
        }
    }

    #[test]
    fn exit_codes_become_a_tagged_list_and_examples_stay_line_by_line() {
        let roff = text_sections(
            "Examples:\n  host run -j 2 p.so\n  .hidden\n\nA note\nover two lines.\n\nExit codes:\n  0  all well\n  1  some failed,\n     or regressed\n141  the reader left",
        );
        assert!(
            roff.contains(".SH EXAMPLES\n.PP\n.nf\n  host run \\-j 2 p.so\n  .hidden\n.fi\n"),
            "{roff}"
        );
        assert!(
            roff.contains(".SH NOTES\n.PP\nA note\nover two lines.\n"),
            "{roff}"
        );
        assert!(roff.contains(".SH \"EXIT STATUS\"\n.TP\n.B 0\nall well\n.TP\n.B 1\nsome failed,\nor regressed\n.TP\n.B 141\nthe reader left\n"), "{roff}");
        assert_eq!(escape(".x \\ y"), "\\&.x \\e y");
    }
}
