//! `build -o`: output folders that hold the user's files are refused
//! before any work, with or without `--force`, and nothing of the user's
//! changes; `--force` replaces only a folder glassmaster wrote, while it
//! holds nothing else.

use super::{album, manifest, refused, run, run_env, tree};

#[test]
fn the_manifest_folder_as_output_is_refused() {
    let dir = album("safety-dot", 2.0);
    let before = tree(&dir);
    let (code, err) = run(&dir, &["build", "album.yaml", "-o", ".", "--force"]);
    refused(code, &err, &[".: refusing", "album.yaml", "an input"]);
    assert_eq!(tree(&dir), before, "the user's folder changed");
}

#[test]
fn the_mixes_folder_as_output_is_refused() {
    let dir = album("safety-mixes", 2.0);
    let before = tree(&dir);
    let (code, err) = run(&dir, &["build", "album.yaml", "-o", "mixes", "--force"]);
    refused(code, &err, &["mixes: refusing", "01 One.wav", "an input"]);
    assert_eq!(tree(&dir), before);
    // The artwork's folder too, and an ancestor of the manifest.
    let (code, err) = run(&dir, &["build", "album.yaml", "-o", "art", "--force"]);
    refused(code, &err, &["art: refusing", "cover.png"]);
    let mixes = dir.join("mixes");
    let (code, err) = run(&mixes, &["build", "../album.yaml", "-o", "..", "--force"]);
    refused(code, &err, &["..: refusing", "album.yaml"]);
    assert_eq!(tree(&dir), before);
}

/// A track whose `file:` lies in the folder a previous build wrote (a
/// master remastered): `--force` may not replace that folder.
#[test]
fn a_source_inside_the_output_is_refused() {
    let dir = album("safety-source-inside", 2.0);
    let (code, err) = run(
        &dir,
        &["build", "album.yaml", "-o", "out", "--only", "masters"],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(dir.join("again.yaml"), manifest("out/masters/01 One.wav")).unwrap();
    let before = tree(&dir);
    let (code, err) = run(
        &dir,
        &[
            "build",
            "again.yaml",
            "-o",
            "out",
            "--only",
            "masters",
            "--force",
        ],
    );
    refused(
        code,
        &err,
        &["out: refusing", "out/masters/01 One.wav", "an input"],
    );
    assert_eq!(tree(&dir), before);
}

#[test]
fn an_existing_file_as_output_is_refused_and_kept() {
    let dir = album("safety-file", 2.0);
    let before = tree(&dir);
    for target in ["album.yaml", "mixes/01 One.wav"] {
        let (code, err) = run(&dir, &["build", "album.yaml", "-o", target, "--force"]);
        refused(code, &err, &[target, "refusing"]);
    }
    std::fs::write(dir.join("notes.txt"), "mine\n").unwrap();
    let before_notes = tree(&dir);
    let (code, err) = run(&dir, &["build", "album.yaml", "-o", "notes.txt", "--force"]);
    refused(code, &err, &["notes.txt", "is a file, not a folder"]);
    assert_eq!(tree(&dir), before_notes, "the file was renamed or changed");
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    assert_eq!(tree(&dir), before);
}

#[test]
fn the_current_folder_home_and_root_are_refused() {
    let dir = album("safety-places", 2.0);
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("letter.txt"), "mine\n").unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".profile"), "mine\n").unwrap();
    let before = tree(&dir);
    // The current folder (it holds no input).
    let (code, err) = run(&sub, &["build", "../album.yaml", "-o", ".", "--force"]);
    refused(code, &err, &[".: refusing", "current folder"]);
    let (code, err) = run(&sub, &["build", "../album.yaml", "-o", "../sub", "--force"]);
    refused(code, &err, &["../sub: refusing", "current folder"]);
    // $HOME, and a folder that holds it.
    let env = [("HOME", home.as_path())];
    let (code, err) = run_env(
        &dir,
        &["build", "album.yaml", "-o", "home", "--force"],
        &env,
    );
    refused(code, &err, &["home: refusing", "home folder"]);
    let (code, err) = run_env(&dir, &["build", "album.yaml", "-o", "/", "--force"], &env);
    refused(code, &err, &["/: refusing", "root folder"]);
    let (code, err) = run_env(
        &dir,
        &["build", "album.yaml", "-o", "/root", "--force"],
        &env,
    );
    refused(code, &err, &["/root: refusing", "home folder"]);
    let (code, err) = run_env(
        &dir,
        &["build", "album.yaml", "-o", "/home/someone", "--force"],
        &env,
    );
    refused(code, &err, &["/home/someone: refusing", "home folder"]);
    assert_eq!(tree(&dir), before);
}

#[test]
fn force_replaces_only_a_folder_glassmaster_wrote() {
    let dir = album("safety-force", 2.0);
    // A folder of the user's: refused with and without --force.
    let mine = dir.join("mine");
    std::fs::create_dir_all(mine.join("sub")).unwrap();
    std::fs::write(mine.join("sub/take3.wav"), "not ours\n").unwrap();
    let before = tree(&dir);
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec!["build", "album.yaml", "-o", "mine", "--only", "masters"];
        args.extend_from_slice(extra);
        let (code, err) = run(&dir, &args);
        refused(code, &err, &["mine:", "did not write it", "--force"]);
        assert_eq!(tree(&dir), before);
    }
    // An empty folder is taken without --force (nothing in it to lose).
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let args = ["build", "album.yaml", "-o", "out", "--only", "masters"];
    let (code, err) = run(&dir, &args);
    assert_eq!(code, 0, "{err}");
    assert!(dir.join("out/.glassmaster").is_file() && dir.join("out/report.json").is_file());
    // Ours: needs --force.
    let (code, err) = run(&dir, &args);
    refused(code, &err, &["out: the output folder exists", "--force"]);
    // Ours, with a file of the user's added: refused, naming it.
    std::fs::write(dir.join("out/masters/notes.txt"), "mine\n").unwrap();
    let before = tree(&dir);
    let (code, err) = run(&dir, &[&args[..], &["--force"]].concat());
    refused(code, &err, &["out:", "masters/notes.txt", "did not write"]);
    assert_eq!(tree(&dir), before);
    // Without it, --force replaces the folder, and verify accepts the marker.
    std::fs::remove_file(dir.join("out/masters/notes.txt")).unwrap();
    let (code, err) = run(&dir, &[&args[..], &["--force"]].concat());
    assert_eq!(code, 0, "{err}");
    let (code, err) = run(&dir, &["verify", "out"]);
    assert_eq!(code, 0, "verify of a marked folder: {err}");
    let left = crate::build::staging_left(&dir);
    assert!(left.is_empty(), "left beside the output: {left:?}");
}
