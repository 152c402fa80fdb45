"""Every kernel source compiles with NVRTC, as CuPy's RawModule compiles it, for sm_80 and sm_90
(no GPU needed). A compile error in any .cu file fails here."""
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

corelib_cuda = pytest.importorskip("corelib_cuda")
from corelib_cuda import nvrtc, sources  # noqa: E402


def _compile_quietly(job):
    try:
        nvrtc.compile_cached(*job)
    except Exception:   # reported by the test of that source
        pass


@pytest.fixture(scope="module", autouse=True)
def compiled_in_parallel():
    """Fill the cubin cache using both cores (a cold cache takes minutes serially)."""
    jobs = [(sources.text(n), arch, f"{n}.cu") for n in sources.names() for arch in nvrtc.ARCHS]
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_compile_quietly, jobs))


@pytest.mark.parametrize("arch", nvrtc.ARCHS)
@pytest.mark.parametrize("name", sources.names())
def test_source_compiles_with_nvrtc(name, arch):
    cubin = nvrtc.compile_cached(sources.text(name), arch, f"{name}.cu")
    assert cubin[:4] == b"\x7fELF"   # a cubin is an ELF image


def test_compile_error_is_reported_with_the_log():
    from cupy.cuda.compiler import CompileException
    with pytest.raises(CompileException, match="undefined"):
        nvrtc.compile_cubin('extern "C" __global__ void k(float* x) { x[0] = undefined_name; }',
                            nvrtc.ARCHS[0])


def test_dump_sources_writes_every_source_exactly(tmp_path):
    subprocess.run([sys.executable, "-m", "corelib_cuda", "dump-sources", str(tmp_path)],
                   check=True, capture_output=True)
    for name in sources.names():
        assert (tmp_path / f"{name}.cu").read_text() == sources.text(name)
    assert "-arch=sm_90" in (tmp_path / "OPTIONS.txt").read_text()
