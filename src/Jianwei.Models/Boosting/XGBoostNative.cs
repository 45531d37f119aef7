using System.Runtime.InteropServices;

namespace Jianwei.Models.Boosting;

/// <summary>XGBoost is not installed (or too old); the message says how to install it.</summary>
public sealed class XGBoostUnavailableException(string message) : Exception(message);

/// <summary>An error reported by XGBoost itself (XGBGetLastError), with the call that failed.</summary>
public sealed class XGBoostException(string message) : Exception(message);

/// <summary>
/// The subset of XGBoost's C API (xgboost/c_api.h, 1.7) that Jianwei uses. The library is found at
/// run time (Debian: <c>libxgboost0</c>); every call's status is checked and turned into an exception
/// carrying XGBoost's own message.
/// </summary>
internal static unsafe partial class XGBoostNative
{
    private const string Lib = "xgboost";

    static XGBoostNative() => NativeLibraries.Register();

    /// <summary>Throws <see cref="XGBoostUnavailableException"/> unless the library loads.</summary>
    public static void EnsureAvailable()
    {
        try { XGBoostVersion(out _, out _, out _); }
        catch (DllNotFoundException)
        {
            throw new XGBoostUnavailableException("XGBoost is not installed: install it with `apt-get install -y libxgboost0` (XGBoost 1.7, Debian 12), then run again.");
        }
    }

    /// <summary>The library's version.</summary>
    public static string Version()
    {
        EnsureAvailable();
        XGBoostVersion(out int major, out int minor, out int patch);
        return $"{major}.{minor}.{patch}";
    }

    public static void Check(int status, string call)
    {
        if (status == 0) return;
        var message = Marshal.PtrToStringUTF8(XGBGetLastError()) ?? "unknown error";
        // XGBoost appends a native backtrace (library paths, addresses): a message is for people, so it stops before it.
        int trace = message.IndexOf("Stack trace:", StringComparison.Ordinal);
        if (trace >= 0) message = message[..trace];
        throw new XGBoostException($"XGBoost {call} failed: {string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
    }

    [LibraryImport(Lib)] public static partial void XGBoostVersion(out int major, out int minor, out int patch);
    [LibraryImport(Lib)] public static partial IntPtr XGBGetLastError();
    [LibraryImport(Lib)] public static partial int XGDMatrixCreateFromMat(float* data, ulong nrow, ulong ncol, float missing, out IntPtr handle);
    [LibraryImport(Lib)] public static partial int XGDMatrixFree(IntPtr handle);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGDMatrixSetFloatInfo(IntPtr handle, string field, float* array, ulong len);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGDMatrixSetStrFeatureInfo(IntPtr handle, string field, IntPtr* features, ulong size);
    [LibraryImport(Lib)] public static partial int XGBoosterCreate(IntPtr* dmats, ulong len, out IntPtr handle);
    [LibraryImport(Lib)] public static partial int XGBoosterFree(IntPtr handle);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterSetParam(IntPtr handle, string name, string value);
    [LibraryImport(Lib)] public static partial int XGBoosterUpdateOneIter(IntPtr handle, int iter, IntPtr dtrain);
    [LibraryImport(Lib)] public static partial int XGBoosterEvalOneIter(IntPtr handle, int iter, IntPtr* dmats, IntPtr* names, ulong len, out IntPtr result);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterPredictFromDMatrix(IntPtr handle, IntPtr dmat, string config, out ulong* shape, out ulong dim, out float* result);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterSaveModelToBuffer(IntPtr handle, string config, out ulong len, out byte* data);
    [LibraryImport(Lib)] public static partial int XGBoosterLoadModelFromBuffer(IntPtr handle, byte* data, ulong len);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterSetStrFeatureInfo(IntPtr handle, string field, IntPtr* features, ulong size);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterGetStrFeatureInfo(IntPtr handle, string field, out ulong size, out IntPtr* features);
    [LibraryImport(Lib)] public static partial int XGBoosterSlice(IntPtr handle, int begin, int end, int step, out IntPtr result);
    [LibraryImport(Lib)] public static partial int XGBoosterBoostedRounds(IntPtr handle, out int rounds);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial int XGBoosterFeatureScore(IntPtr handle, string config, out ulong nFeatures, out IntPtr* features, out ulong dim, out ulong* shape, out float* scores);
}
