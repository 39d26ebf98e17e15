//! `kdesk import book.pdf --slug my-book`: a new project from a PDF.

use kdesk_library::{ImportOptions, Library};

use crate::args::{Globals, ImportArgs};
use crate::commands::{library_root, parse_slug};

pub fn run(globals: &Globals, args: &ImportArgs) -> anyhow::Result<i32> {
    let slug = parse_slug(&args.slug)?;
    let root = library_root(globals);
    std::fs::create_dir_all(&root)?;
    let library = Library::open(&root)?;
    let options =
        ImportOptions { dpi: args.dpi, title: args.title.clone(), language: args.language.clone() };
    let project = library.import_pdf(&args.pdf, &slug, &options)?;
    let pages = project.pages()?.len();
    println!(
        "imported '{}' as project '{}': {pages} pages in {}",
        args.pdf.display(),
        slug,
        project.root.display()
    );
    Ok(0)
}
