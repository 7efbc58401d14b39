"""The built-in demo municipality: synthetic extracts of Demostad (GM9999)."""


import dagster as dg

from pipelines.defs.sources.metadata import markdown_table
from pipelines.demo.generator import generate_demo
from pipelines.settings import Settings

DEMO_ASSET_KEY = dg.AssetKey("demostad_extracts")


def build_demo_asset(settings: Settings) -> dg.AssetsDefinition:
    @dg.asset(
        key=DEMO_ASSET_KEY,
        group_name="sources",
        kinds={"python", "csv"},
        description=(
            "SYNTHETIC demo data: generates the extracts of the fictional municipality Demostad (GM9999) "
            "with known planted factor-outcome effects, shaped like real CBS, municipal, GGD, DUO and police "
            "extracts, plus the ground truth of the planted effects. Deterministic for a given seed. Only "
            "part of the graph when no real extract folder is configured."
        ),
    )
    def _demostad_extracts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        result = generate_demo(settings.demo_dir, seed=settings.demo_seed)
        context.log.info(f"Wrote synthetic Demostad extracts to {settings.extract_dir}")
        files = [{"file": p.name, "rows": n} for p, n in sorted(result.rows_per_file.items())]
        return dg.MaterializeResult(
            metadata={
                "synthetic": "yes: fictional municipality Demostad (GM9999), generated data",
                "seed": settings.demo_seed,
                "extract_dir": dg.MetadataValue.path(str(settings.extract_dir)),
                "ground_truth_dir": dg.MetadataValue.path(str(settings.demo_dir / "ground_truth")),
                "files": dg.MetadataValue.md(markdown_table(files)),
            }
        )

    return _demostad_extracts
