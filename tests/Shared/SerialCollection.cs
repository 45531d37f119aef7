namespace Jianwei.Tests;

/// <summary>
/// Tests that compare two runs bit for bit join this collection, which xUnit runs alone: another
/// test's parallel loop may set OpenBLAS's process-wide thread count for a moment, and a product
/// split over a different number of threads rounds differently.
/// </summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection;
