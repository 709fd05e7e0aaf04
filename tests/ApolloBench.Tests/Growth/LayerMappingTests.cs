using ApolloBench.Core;
using ApolloBench.Growth;

namespace ApolloBench.Tests.Growth;

/// <summary>Layer mappings against SPEC section 2's examples and the released code's float form.</summary>
public class LayerMappingTests
{
    [Fact]
    public void Interpolation_matches_the_spec_examples()
    {
        Assert.Equal([0, 0, 1, 1, 2, 2], LayerMapping.Interpolate(3, 6));
        Assert.Equal([0, 0, 0, 1, 1, 2, 2], LayerMapping.Interpolate(3, 7));
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2], LayerMapping.Interpolate(3, 8));
        Assert.Equal([0, 1, 2], LayerMapping.Interpolate(3, 3));
    }

    [Fact]
    public void Stacking_matches_the_spec_examples()
    {
        Assert.Equal([0, 1, 2, 0, 1, 2], LayerMapping.Stack(3, 6));
        Assert.Equal([0, 1, 2, 0, 1, 2, 2], LayerMapping.Stack(3, 7));
        Assert.Equal([0, 1, 2, 0, 1, 2, 1, 2], LayerMapping.Stack(3, 8));
        Assert.Equal([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], LayerMapping.Stack(6, 12));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(12)]
    public void One_weight_maps_every_layer_to_zero(int m)
    {
        Assert.Equal(new int[m], LayerMapping.Interpolate(1, m));
        Assert.Equal(new int[m], LayerMapping.Stack(1, m));
    }

    // Expected arrays printed by Python 3 from the released code's expression [int(i / (m / n)) for i in range(m)].
    public static TheoryData<int, int, int[], int[]> FloatFormPairs => new()
    {
        { 14, 18, [0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 10, 10, 11, 12, 13], [9] },
        { 21, 27, [0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 10, 10, 11, 12, 13, 13, 14, 15, 16, 17, 17, 18, 19, 20], [9, 18] },
    };

    [Theory]
    [MemberData(nameof(FloatFormPairs))]
    public void Interpolation_uses_the_released_float_form_not_integer_division(int n, int m, int[] released, int[] differAt)
    {
        var g = LayerMapping.Interpolate(n, m);
        Assert.Equal(released, g);
        var integerForm = Enumerable.Range(0, m).Select(i => i * n / m).ToArray();
        var differs = Enumerable.Range(0, m).Where(i => g[i] != integerForm[i]).ToArray();
        Assert.Equal(differAt, differs);
    }

    [Fact]
    public void Every_mapping_covers_all_weights_and_interpolation_is_monotone()
    {
        for (int m = 1; m <= 48; m++)
            for (int n = 1; n <= m; n++)
            {
                var interp = LayerMapping.Interpolate(n, m);
                var stack = LayerMapping.Stack(n, m);
                Assert.Equal(m, interp.Length);
                Assert.Equal(m, stack.Length);
                Assert.Equal(Enumerable.Range(0, n), interp.Distinct().Order());
                Assert.Equal(Enumerable.Range(0, n), stack.Distinct().Order());
                for (int i = 1; i < m; i++) Assert.True(interp[i] >= interp[i - 1], $"interpolate({n},{m}) not monotone at {i}");
                Assert.Equal(0, interp[0]);
                Assert.Equal(n - 1, interp[^1]);
                Assert.Equal(n - 1, stack[^1]); // the top weight always runs last
            }
    }

    [Fact]
    public void Map_dispatches_on_the_kind()
    {
        Assert.Equal([0, 0, 1, 1, 2, 2], LayerMapping.Map(MappingKind.Interpolate, 3, 6));
        Assert.Equal([0, 1, 2, 0, 1, 2], LayerMapping.Map(MappingKind.Stack, 3, 6));
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(4, 3)]
    [InlineData(-1, 5)]
    public void Invalid_sizes_are_rejected(int n, int m)
    {
        Assert.Throws<ArgumentException>(() => LayerMapping.Interpolate(n, m));
        Assert.Throws<ArgumentException>(() => LayerMapping.Stack(n, m));
    }

    [Theory]
    [InlineData("interpolate", MappingKind.Interpolate)]
    [InlineData("Interpolation", MappingKind.Interpolate)]
    [InlineData("STACK", MappingKind.Stack)]
    [InlineData("stacking", MappingKind.Stack)]
    public void Parse_accepts_the_names(string name, MappingKind kind) => Assert.Equal(kind, LayerMapping.Parse(name));

    [Fact]
    public void Parse_rejects_unknown_names_naming_the_option_and_the_valid_values()
    {
        var e = Assert.Throws<UsageException>(() => LayerMapping.Parse("grow"));
        Assert.Contains("--mapping", e.Message);
        Assert.Contains("interpolate", e.Message);
        Assert.Contains("stack", e.Message);
    }
}
