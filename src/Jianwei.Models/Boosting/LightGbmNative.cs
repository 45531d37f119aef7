using System.Runtime.InteropServices;

namespace Jianwei.Models.Boosting;

/// <summary>LightGBM's native library did not load; the message says what is missing.</summary>
public sealed class LightGbmUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>An error reported by LightGBM itself (LGBM_GetLastError), with the call that failed.</summary>
public sealed class LightGbmException(string message) : Exception(message);

/// <summary>
/// The subset of LightGBM's C API (LightGBM/c_api.h, 4.x) that Jianwei uses. The library,
/// <c>lib_lightgbm.so</c>, comes with the <c>LightGBM</c> NuGet package (it needs libgomp, as
/// XGBoost does); every call's status is checked and turned into an exception carrying LightGBM's message.
/// </summary>
internal static unsafe partial class LightGbmNative
{
    private const string Lib = "lib_lightgbm";

    static LightGbmNative() => NativeLibraries.Register();

    public const int Float32 = 0, Float64 = 1;                         // C_API_DTYPE_*
    public const int PredictNormal = 0, PredictRawScore = 1, PredictContrib = 3;   // C_API_PREDICT_*
    public const int ImportanceGain = 1;                               // C_API_FEATURE_IMPORTANCE_GAIN

    /// <summary>Throws <see cref="LightGbmUnavailableException"/> unless the library loads.</summary>
    public static void EnsureAvailable()
    {
        try { LGBM_GetLastError(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new LightGbmUnavailableException("LightGBM's native library (lib_lightgbm.so, from the LightGBM NuGet package) did not load; it needs libgomp: `apt-get install -y libgomp1`.", e);
        }
    }

    public static void Check(int status, string call)
    {
        if (status == 0) return;
        var message = Marshal.PtrToStringUTF8(LGBM_GetLastError()) ?? "unknown error";
        throw new LightGbmException($"LightGBM {call} failed: {message.Trim()}");
    }

    [LibraryImport(Lib)] public static partial IntPtr LGBM_GetLastError();
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_DatasetCreateFromMat(float* data, int dataType, int nrow, int ncol, int isRowMajor, string parameters, IntPtr reference, out IntPtr handle);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_DatasetSetField(IntPtr handle, string field, float* data, int count, int type);
    [LibraryImport(Lib)] public static partial int LGBM_DatasetFree(IntPtr handle);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_BoosterCreate(IntPtr train, string parameters, out IntPtr handle);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterAddValidData(IntPtr handle, IntPtr valid);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterUpdateOneIter(IntPtr handle, out int finished);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterGetEval(IntPtr handle, int dataIndex, out int count, double* results);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterFree(IntPtr handle);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_BoosterPredictForMat(IntPtr handle, float* data, int dataType, int nrow, int ncol, int isRowMajor, int predictType,
                                                        int startIteration, int numIteration, string parameters, out long length, double* result);
    [LibraryImport(Lib)]
    public static partial int LGBM_BoosterSaveModelToString(IntPtr handle, int startIteration, int numIteration, int importanceType, long bufferLength, out long length, byte* text);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterLoadModelFromString(byte* text, out int iterations, out IntPtr handle);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterFeatureImportance(IntPtr handle, int numIteration, int importanceType, double* results);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterGetNumFeature(IntPtr handle, out int count);
    [LibraryImport(Lib)] public static partial int LGBM_BoosterGetCurrentIteration(IntPtr handle, out int iteration);
}
