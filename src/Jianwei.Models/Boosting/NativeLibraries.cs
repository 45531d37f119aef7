using System.Reflection;
using System.Runtime.InteropServices;

namespace Jianwei.Models.Boosting;

/// <summary>
/// How this assembly finds its native libraries (an assembly has one resolver, so both tree libraries
/// share it): XGBoost from Debian's <c>libxgboost0</c> by its soname, LightGBM by the default probing
/// of the NuGet package's <c>runtimes/</c> folder. Before either brings in libgomp, OpenMP's spinning is shortened.
/// </summary>
internal static partial class NativeLibraries
{
    private static int s_registered;

    /// <summary>Installs the resolver once; every native binding's static constructor calls this.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0) NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name is not ("xgboost" or "lib_lightgbm")) return IntPtr.Zero;
        ShortenOpenMpSpinning();
        if (name == "lib_lightgbm") return IntPtr.Zero;   // the default probing finds the package's copy
        foreach (var candidate in new[] { "libxgboost.so.0", "libxgboost.so", "/usr/lib/x86_64-linux-gnu/libxgboost.so.0", "libxgboost.dylib", "xgboost.dll" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return IntPtr.Zero;
    }

    /// <summary>
    /// Sets <c>GOMP_SPINCOUNT=1000</c> in the native environment (unless the user tuned OpenMP's waiting)
    /// before XGBoost brings in libgomp, which reads it once. By default OpenMP's idle workers spin for a
    /// long while after each parallel region; Jianwei alternates XGBoost with BLAS and transformer work
    /// on the same cores (stacking, scoring), and the spinning threads made a one-row score of the
    /// multimodal stack cost 10 ms instead of 2.3 ms. A short spin keeps XGBoost's training speed
    /// (OMP_WAIT_POLICY=PASSIVE cost 1.5× there). .NET's Environment.SetEnvironmentVariable does not
    /// reach libc's environment on Unix, hence setenv.
    /// </summary>
    private static void ShortenOpenMpSpinning()
    {
        if (OperatingSystem.IsWindows() || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null
            || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null) return;
        try { SetEnv("GOMP_SPINCOUNT", "1000", 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
