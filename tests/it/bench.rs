//! Smoke runs of the benchmarks on tiny inputs: every report field is present and
//! sane. Nothing here checks a timing target.

use xunying::bench::{
    run_decode, run_ingest, run_query, DecodeBenchOptions, GeneratedSet, IngestBenchOptions, QueryBenchOptions,
};
use xunying::model::Device;
use xunying::vectors::VectorKind;

use crate::support::{corpus_dir, stdout, stderr, toy_bundle, xunying};

fn small_set() -> GeneratedSet {
    GeneratedSet::uniform(2, 0.3)
}

#[test]
fn ingest_report_is_complete() {
    let scratch = tempfile::tempdir().unwrap();
    let report = run_ingest(&IngestBenchOptions {
        model_dir: toy_bundle(),
        photo_dir: Some(corpus_dir().join("photos")),
        generated: vec![small_set()],
        threads: 2,
        batch_size: 4,
        regions: true,
        device: Device::Cpu,
        runtime_library: None,
        scratch_dir: Some(scratch.path().to_path_buf()),
    })
    .unwrap();

    assert_eq!(report.device, "cpu");
    assert!(report.photos_found >= 2 + 10, "found {}", report.photos_found);
    assert!(report.photos_embedded >= 2, "embedded {}", report.photos_embedded);
    assert_eq!(report.photos_embedded as usize, report.model_only.photos, "both sides run the same photos");
    assert_eq!(report.photos_per_budget.values().sum::<usize>(), report.model_only.photos);
    assert!(report.photos_per_s > 0.0, "photos_per_s is {}", report.photos_per_s);
    assert!(report.photos_per_s.is_finite());
    assert!(report.model_only.photos_per_s > 0.0, "model_only.photos_per_s is {}", report.model_only.photos_per_s);
    assert!(report.model_only.photos_per_s.is_finite());
    assert!(report.ratio_to_model_only > 0.0, "ratio_to_model_only is {}", report.ratio_to_model_only);
    assert!(report.ratio_to_model_only.is_finite());
    assert_eq!(report.stages.totals.photos, report.photos_embedded);
    assert_eq!(report.stages.per_photo_ms.len(), 11);
    assert!(report.stages.per_photo_ms.values().all(|ms| ms.is_finite() && *ms >= 0.0));
    assert!(report.stages.totals.decode_s > 0.0);
    assert!(report.stages.totals.preprocess_s > 0.0);
    assert!(report.stages.totals.superpixels_s > 0.0, "segment boxes are snapped to superpixels");
    assert!(report.stages.vision_graph_s > 0.0);
    assert!(report.stages.dense_graph_s > 0.0, "regions need the dense graph");
    assert!(report.stages.totals.commit_s > 0.0);
    if cfg!(target_os = "linux") {
        assert!(report.memory.peak_mib >= report.memory.after_first_batch_mib);
        assert!(report.memory.after_first_batch_mib > 0.0);
        let halves = (report.memory.peak_first_half_mib, report.memory.peak_second_half_mib);
        assert!(halves.0 > 0.0, "the sampler ran in the first half: {halves:?}");
        assert!(halves.1 > 0.0, "the sampler ran in the second half: {halves:?}");
        assert!(report.memory.peak_mib >= halves.0.max(halves.1), "{:?}", report.memory);
        assert!(report.memory.vectors > report.photos_embedded as usize, "photos and their regions: {:?}", report.memory);
        assert!(report.memory.vector_indexes_mib > 0.0, "{:?}", report.memory);
    }
}

#[test]
fn ingest_without_photos_is_rejected() {
    let options = IngestBenchOptions {
        model_dir: toy_bundle(),
        photo_dir: None,
        generated: Vec::new(),
        threads: 1,
        batch_size: 4,
        regions: false,
        device: Device::Cpu,
        runtime_library: None,
        scratch_dir: None,
    };
    assert!(matches!(run_ingest(&options), Err(xunying::bench::BenchError::InvalidOptions { .. })));
}

#[test]
fn decode_report_times_each_photo() {
    let report = run_decode(&DecodeBenchOptions {
        photo_dir: None,
        generated: vec![GeneratedSet::uniform(1, 0.5)],
        model_dir: None,
        repeats: 2,
        scratch_dir: None,
    })
    .unwrap();

    assert_eq!(report.photos.len(), 1);
    let photo = &report.photos[0];
    assert_eq!(photo.size_px, (866, 577));
    assert_eq!(photo.patch_budget, 1024);
    assert!(photo.decode_ms > 0.0);
    assert!(photo.preprocess_ms > 0.0);
    assert_eq!(photo.total.samples, 2);
    // 866 × 577 at budget 1024 needs twice its 624 × 416 model input: no reduction fits.
    assert_eq!(photo.reduced.len(), 2);
    for reduced in &photo.reduced {
        assert_eq!(reduced.decoded_px, (866, 577), "{}", reduced.covers);
        assert_eq!((reduced.max_diff_levels, reduced.mean_diff_levels), (0.0, 0.0), "{}", reduced.covers);
    }
}

#[test]
fn decode_report_compares_reduced_decodes() {
    let report = run_decode(&DecodeBenchOptions {
        photo_dir: None,
        generated: vec![GeneratedSet::uniform(1, 12.0)],
        model_dir: None,
        repeats: 1,
        scratch_dir: None,
    })
    .unwrap();

    let photo = &report.photos[0];
    assert_eq!(photo.size_px, (4242, 2828));
    for reduced in &photo.reduced {
        assert_eq!(reduced.decoded_px, (2121, 1414), "half size covers twice the 624 × 416 input: {}", reduced.covers);
        assert!(reduced.max_diff_levels <= 6.0, "{}: {}", reduced.covers, reduced.max_diff_levels);
        assert!(reduced.mean_diff_levels > 0.0, "{}: {}", reduced.covers, reduced.mean_diff_levels);
        assert!(reduced.mean_diff_levels < 0.5, "{}: {}", reduced.covers, reduced.mean_diff_levels);
    }
}

#[test]
fn query_report_is_complete() {
    let report = run_query(&QueryBenchOptions {
        photos: 2000,
        regions: 6000,
        dim: None,
        queries: 30,
        recall_queries: 20,
        kind: VectorKind::I8,
        expansion_search: vec![16, 128],
        region_candidates: vec![],
        connectivity: None,
        expansion_add: None,
        model_dir: Some(toy_bundle()),
        device: Device::Cpu,
        threads: 1,
        runtime_library: None,
        scratch_dir: None,
        reuse_indexes: false,
        catalog: true,
        seed: 3,
    })
    .unwrap();

    assert_eq!(report.dim, 128, "the toy bundle's width");
    assert_eq!(report.by_expansion.len(), 2);
    assert!(report.by_expansion.iter().all(|e| e.region_candidates == 200), "the default candidates");
    for e in &report.by_expansion {
        let reads = e.catalog_reads.as_ref().expect("the catalog was timed");
        let total = e.with_catalog_reads.as_ref().unwrap();
        assert_eq!(reads.samples, 30);
        assert!(reads.p50_ms > 0.0);
        assert!(total.p50_ms >= e.ann_and_fusion.p50_ms.min(reads.p50_ms));
        let search = e.search_with_reads.as_ref().expect("the search with its reads was timed");
        assert_eq!(search.samples, 30);
        assert!(search.p50_ms > 0.0);
        assert!(search.p50_ms <= search.p99_ms);
    }
    assert!(report.build_catalog_s.is_some_and(|s| s > 0.0));
    for e in &report.by_expansion {
        assert_eq!(e.ann_and_fusion.samples, 30);
        assert!(e.ann_and_fusion.p50_ms > 0.0);
        assert!(e.ann_and_fusion.p50_ms <= e.ann_and_fusion.p99_ms);
        assert!((0.0..=1.0).contains(&e.photo_recall_at_10));
        assert!((0.0..=1.0).contains(&e.region_recall_at_10));
    }
    assert!(report.by_expansion[1].region_recall_at_10 >= 0.9, "a wide search finds most of the exact top 10");
    assert!(report.by_expansion[1].result_recall_at_10 >= 0.9, "a wide search finds most of the exact answer");
    assert!(report.photo_memory_bytes_per_vector >= 128.0, "i8 stores at least one byte per component");
    assert!(report.file_bytes_per_vector >= 128.0);
    assert!(report.build_photos_s.is_some_and(|s| s > 0.0));
    assert!(report.build_regions_s.is_some_and(|s| s > 0.0));
    assert!(report.first_answer_ms >= report.open_indexes_ms);
    let text = report.text_encoder.expect("a bundle was given");
    assert_eq!(text.device, "cpu");
    assert!(text.per_query.p50_ms > 0.0);
    assert!(text.first_answer_after_load_ms > text.first_query_ms);
    assert!(text.warm_up_ms > 0.0);
    assert!(text.first_answer_when_ready_ms >= text.first_query_ms + report.first_answer_ms - 0.001);
    assert!(text.first_answer_after_load_ms >= text.first_answer_when_ready_ms + text.load_ms + text.warm_up_ms - 0.001);
}

#[test]
fn cli_query_prints_json() {
    let data = tempfile::tempdir().unwrap();
    let args = ["bench", "query", "--photos", "300", "--regions", "600", "--dim", "32", "--queries", "10", "--recall-queries", "5", "--json"];
    let output = xunying(&args, data.path());
    assert!(output.status.success(), "stderr: {}", stderr(&output));

    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["photos"], 300);
    assert_eq!(report["dim"], 32);
    assert_eq!(report["kind"], "i8");
    assert_eq!(report["by_expansion"].as_array().map(Vec::len), Some(2));
    let rescored = report["by_expansion"][0]["region_recall_at_10_rescored"].as_f64().unwrap();
    assert!(rescored >= 0.9, "200 rescored candidates of 600 regions hold the exact top 10: {rescored}");
    assert!(report["text_encoder"].is_null(), "no bundle is set");
}

#[test]
fn cli_query_measures_candidates_and_reuses_indexes() {
    let data = tempfile::tempdir().unwrap();
    let scratch = data.path().join("kept");
    let scratch_arg = scratch.to_str().unwrap();
    let args = [
        "bench", "query", "--photos", "400", "--regions", "4000", "--dim", "32", "--queries", "10", "--recall-queries", "10",
        "--expansion-search", "16", "--region-candidates", "10,400", "--scratch", scratch_arg, "--reuse-indexes", "--catalog", "--json",
    ];
    let first: serde_json::Value = {
        let output = xunying(&args, data.path());
        assert!(output.status.success(), "stderr: {}", stderr(&output));
        serde_json::from_str(&stdout(&output)).unwrap()
    };
    let rows = first["by_expansion"].as_array().unwrap();
    assert_eq!(rows.iter().map(|e| e["region_candidates"].as_u64().unwrap()).collect::<Vec<_>>(), [10, 400]);
    let rescored = |row: &serde_json::Value| row["region_recall_at_10_rescored"].as_f64().unwrap();
    assert!(rescored(&rows[1]) > rescored(&rows[0]), "400 candidates hold more of the exact top 10 than 10 do: {rows:?}");
    assert!(rows[1]["result_recall_at_10"].as_f64().unwrap() >= 0.9, "{rows:?}");
    assert!(first["build_regions_s"].as_f64().is_some_and(|s| s > 0.0));

    let output = xunying(&args, data.path());
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let second: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(second["build_photos_s"].is_null(), "the kept photo index is reused: {second}");
    assert!(second["build_regions_s"].is_null(), "the kept region index is reused: {second}");
    assert!(second["build_catalog_s"].is_null(), "the kept catalog is reused: {second}");
    assert!(second["by_expansion"][1]["catalog_reads"]["p50_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{second}");
    assert_eq!(second["by_expansion"][1]["result_recall_at_10"], first["by_expansion"][1]["result_recall_at_10"], "same files, same answers");

    let mut denser = args.to_vec();
    denser.extend(["--connectivity", "32"]);
    let output = xunying(&denser, data.path());
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let fourth: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(fourth["connectivity"], 32);
    assert!(fourth["build_regions_s"].as_f64().is_some(), "another connectivity builds its own files");
    assert!(
        fourth["file_bytes_per_vector"].as_f64().unwrap() > first["file_bytes_per_vector"].as_f64().unwrap(),
        "a denser graph takes more bytes per vector"
    );

    let mut other_seed = args.to_vec();
    other_seed.extend(["--seed", "2"]);
    let output = xunying(&other_seed, data.path());
    let third: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(third["build_regions_s"].as_f64().is_some(), "another seed builds its own files");

    let output = xunying(&["bench", "query", "--photos", "10", "--regions", "10", "--dim", "8", "--reuse-indexes"], data.path());
    assert!(!output.status.success(), "--reuse-indexes without --scratch is rejected");

    let zeros = [("--dim", "0"), ("--region-candidates", "0"), ("--queries", "0"), ("--recall-queries", "0"), ("--regions", "0"), ("--expansion-search", "0")];
    for (flag, value) in zeros {
        let mut args = vec!["bench", "query", "--photos", "10"];
        if flag != "--regions" {
            args.extend(["--regions", "10"]);
        }
        if flag != "--dim" {
            args.extend(["--dim", "8"]);
        }
        args.extend([flag, value]);
        let output = xunying(&args, data.path());
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {}", stderr(&output));
        assert!(stderr(&output).contains(&format!("{flag} 至少为 1")), "{flag} {value}: {}", stderr(&output));
        assert!(!stderr(&output).contains("panicked"), "{flag} {value}: {}", stderr(&output));
    }

    // Too wide, or more vectors than memory holds: a bilingual error before any
    // allocation, not an abort.
    let too_large = [["--photos", "10", "--regions", "10", "--dim", "100000000"], ["--photos", "1000000000000", "--regions", "10", "--dim", "4096"]];
    for sizes in too_large {
        let mut args = vec!["bench", "query", "--no-text"];
        args.extend(sizes);
        let output = xunying(&args, data.path());
        assert_eq!(output.status.code(), Some(2), "{sizes:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("超过"), "{sizes:?}: {}", stderr(&output));
        assert!(!stderr(&output).contains("memory allocation"), "{sizes:?}: {}", stderr(&output));
    }
}

#[test]
fn cli_ingest_prints_table() {
    let data = tempfile::tempdir().unwrap();
    let bundle = toy_bundle();
    let args = ["--model", bundle.to_str().unwrap(), "--device", "cpu", "bench", "ingest", "--generate", "2x0.2", "--threads", "1", "--no-regions"];
    let output = xunying(&args, data.path());
    assert!(output.status.success(), "stderr: {}", stderr(&output));

    let text = stdout(&output);
    assert!(text.contains("end to end"), "{text}");
    assert!(text.contains("model only"), "{text}");
    assert!(text.contains("06_dense_graph"), "{text}");
}
