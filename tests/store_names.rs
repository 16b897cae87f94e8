//! Naming is part of the store (issue 13, item 1): list, resolve, set and remove names
//! on a layout and on the real registry, with the registry's access log showing what
//! each naming step costs (a resolve is a HEAD; a retag is one manifest PUT, no blobs).

mod common;
mod common_registry;

use common::tiny_image;
use common_registry::*;
use oix::copy::{copy_graph, CopyOptions};
use oix::store::Names;
use oix::Layout;

fn registry_store(reg: &RegistryServer, repo: &str) -> oix::registry::Registry {
    let r = oix::registry::RegistryRef::parse(&format!("docker://{}/{repo}", reg.host())).unwrap();
    let mut opts = oix::registry::RegistryOptions {
        push: true,
        ..Default::default()
    };
    opts.transport.plain_http = true;
    oix::registry::Registry::new(&r, &opts).unwrap()
}

#[test]
fn a_layout_lists_resolves_sets_and_removes_names() {
    let t = tempfile::tempdir().unwrap();
    let l = Layout::init(t.path().join("l")).unwrap().0;
    let a = tiny_image(&l, "amd64", b"a");
    let b = tiny_image(&l, "arm64", b"b");
    l.set_names(&["1.0".into(), "latest".into()], &a).unwrap();
    l.set_names(&["2.0".into()], &b).unwrap();
    assert_eq!(l.list_names().unwrap(), ["1.0", "latest", "2.0"]);
    assert_eq!(l.resolve_name("1.0").unwrap().unwrap().digest, a.digest);
    assert_eq!(l.resolve_name(&b.digest).unwrap().unwrap().digest, b.digest);
    assert!(l.resolve_name("nope").unwrap().is_none());
    // Moving a name keeps one entry under it.
    l.set_names(&["latest".into()], &b).unwrap();
    assert_eq!(l.resolve_name("latest").unwrap().unwrap().digest, b.digest);
    l.remove_names(&["1.0".into(), "never-there".into()])
        .unwrap();
    assert_eq!(l.list_names().unwrap(), ["latest", "2.0"]);
    // Two entries under one name (a layout may hold that) are ambiguous, not a guess.
    l.transact(|idx| {
        let mut e = a.clone();
        e.annotations
            .insert(oix::model::annotation::REF_NAME.into(), "2.0".into());
        idx.manifests.push(e);
        Ok(())
    })
    .unwrap();
    let e = l.resolve_name("2.0").unwrap_err();
    assert_eq!(e.kind, oix::error::Kind::Ambiguous, "{}", e.message);
}

#[test]
fn a_registry_lists_resolves_and_sets_names_with_heads_and_manifest_puts_only() {
    if !tools_present() {
        return;
    }
    let reg = RegistryServer::start(None, Auth::None);
    let t = tempfile::tempdir().unwrap();
    let l = Layout::init(t.path().join("l")).unwrap().0;
    let img = tiny_image(&l, "amd64", b"layer bytes");
    let store = registry_store(&reg, "names/app");
    assert!(
        store.list_names().unwrap().is_empty(),
        "a new repository has no tags"
    );
    assert!(store.resolve_name("1.0").unwrap().is_none());
    copy_graph(
        &l,
        &store,
        std::slice::from_ref(&img),
        &CopyOptions::default(),
    )
    .unwrap();

    let before = reg.requests().len();
    let names: Vec<String> = ["e", "a", "c", "b", "d"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    store.set_names(&names, &img).unwrap();
    // Naming five tags: five manifest PUTs, nothing else (the bytes were just pushed).
    let reqs = reg.requests()[before..].to_vec();
    assert_eq!(reqs.len(), 5, "{reqs:?}");
    assert!(reqs
        .iter()
        .all(|(m, p)| m == "PUT" && p.contains("/manifests/")));

    // Every tag once, sorted. (distribution 2.8 ignores `n` and answers in one page, in
    // storage order; `Link` pages are followed where a registry sends them.)
    assert_eq!(store.list_tags_paged(2).unwrap(), ["a", "b", "c", "d", "e"]);

    // A resolve is one HEAD and gives the full descriptor.
    let before = reg.requests().len();
    let got = store.resolve_name("c").unwrap().unwrap();
    assert_eq!(
        (got.digest.as_str(), got.size),
        (img.digest.as_str(), img.size)
    );
    assert_eq!(got.media_type, img.media_type);
    assert_eq!(
        reg.requests()[before..],
        [("HEAD".into(), "/v2/names/app/manifests/c".into())]
    );

    // A fresh client retags within the repository: one GET of the manifest, one PUT.
    let other = registry_store(&reg, "names/app");
    let before = reg.requests().len();
    other.set_names(&["promoted".into()], &got).unwrap();
    assert_eq!(reg.count(before, "GET", "/blobs/"), 0);
    assert_eq!(reg.count(before, "HEAD", "/blobs/"), 0);
    assert_eq!(reg.count(before, "PUT", "/manifests/promoted"), 1);
    assert_eq!(
        skopeo_raw(
            &format!("docker://{}/names/app:promoted", reg.host()),
            &["--tls-verify=false"][..]
        ),
        l.read_blob(&img, 1 << 20).unwrap()
    );

    // Removing a tag is refused with a reason, and nothing changes.
    let e = store.remove_names(&["a".into()]).unwrap_err();
    assert_eq!(e.kind, oix::error::Kind::Failure, "{}", e.message);
    assert!(store.resolve_name("a").unwrap().is_some());
}
