//! `kdesk projects`: the library's projects.

use serde::Serialize;

use kdesk_library::Library;

use crate::args::{Globals, JsonFlag};
use crate::commands::library_root;

#[derive(Serialize)]
struct ProjectLine {
    slug: String,
    title: String,
    language: String,
    engine: String,
    pages: usize,
    path: String,
}

pub fn run(globals: &Globals, args: &JsonFlag) -> anyhow::Result<i32> {
    let library = Library::open(library_root(globals))?;
    let mut lines = Vec::new();
    for project in library.projects()? {
        lines.push(ProjectLine {
            slug: project.slug.to_string(),
            title: project.metadata.title.clone(),
            language: project.metadata.language.clone(),
            engine: project.metadata.engine.clone(),
            pages: project.pages()?.len(),
            path: project.root.display().to_string(),
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&lines)?);
        return Ok(0);
    }
    if lines.is_empty() {
        println!("no projects in {}", library.root().display());
    }
    for line in &lines {
        println!("{:<28} {:>5} pages  {:<8} {}", line.slug, line.pages, line.language, line.title);
    }
    Ok(0)
}
