using System.Text;

namespace Jianwei.Data;

/// <summary>Word banks for the generated texts, in Chinese and English.</summary>
internal sealed record Vocabulary(
    string[] Industries, string[] Provinces, string[][] ScopeByIndustry, string[] UnrelatedScopes, string[] OrdinaryJobs,
    string[] CollectorJobs, string[] ProfileOpeners, string[] ProfileClosers, string[] ArrearsNotes, string[] PatentNotes,
    string[] HighTechNotes, string[] Names, string[] ChangeKinds, string RepChange, string ScopeAdd, string NoPosts, string PostFormat,
    string Sep)
{
    public static readonly Vocabulary Chinese = new(
        Industries: ["制造业", "批发零售", "建筑业", "信息技术", "餐饮住宿", "交通运输", "房地产", "农林牧渔", "金融服务", "教育培训"],
        Provinces: ["广东", "浙江", "江苏", "山东", "河南", "四川", "湖北", "湖南", "福建", "安徽", "河北", "上海", "北京", "重庆", "江西", "广西"],
        ScopeByIndustry: [
            ["五金配件生产", "塑料制品加工", "机械设备制造", "模具设计与加工"], ["日用百货销售", "服装鞋帽批发", "食品零售", "建材销售"],
            ["房屋建筑施工", "装饰装修工程", "市政工程施工", "钢结构安装"], ["软件开发", "信息系统集成", "数据处理服务", "网络技术咨询"],
            ["中式餐饮服务", "快餐配送", "酒店住宿", "茶饮制作"], ["普通货物运输", "仓储服务", "城市配送", "货运代理"],
            ["房地产经纪", "物业管理", "房屋租赁", "房地产营销策划"], ["蔬菜种植", "生猪养殖", "水产养殖", "林木育苗"],
            ["商业保理", "融资租赁咨询", "财务咨询", "保险代理"], ["职业技能培训", "少儿艺术培训", "外语培训", "教育咨询"]],
        UnrelatedScopes: ["区块链技术服务", "艺术品投资咨询", "融资担保", "数字藏品发行", "私募股权投资咨询", "虚拟货币技术开发", "跨境电商直播", "医疗器械销售"],
        OrdinaryJobs: ["销售代表", "仓库管理员", "会计", "行政专员", "生产操作工", "软件工程师", "厨师", "司机", "客服专员", "项目经理", "出纳", "店长"],
        CollectorJobs: ["催收专员", "电话催收员", "贷后管理专员", "逾期账款回收专员", "外访催收", "资产清收专员"],
        ProfileOpeners: ["{0}成立于{1}年，", "本公司于{1}年在{2}注册成立，", "{0}是一家位于{2}的{3}企业，成立于{1}年，", "公司创立于{1}年，总部设在{2}，"],
        ProfileClosers: ["公司秉承诚信经营的理念，服务周边客户。", "现有员工约{4}人，业务稳定。", "致力于为客户提供优质服务。", "近年来业务规模逐步扩大。", "产品销往全国多个省份。", "坚持客户至上、质量第一。"],
        ArrearsNotes: ["近期有员工反映工资已拖欠三个月。", "多名前员工投诉公司拖欠薪资。", "劳动监察部门收到该公司欠薪举报。", "有员工表示年终奖和工资至今未发放。"],
        PatentNotes: ["公司已获得多项实用新型专利。", "拥有发明专利两项。", "研发团队取得软件著作权及专利若干。"],
        HighTechNotes: ["公司通过国家高新技术企业认定。", "被评为高新技术企业和专精特新中小企业。"],
        Names: ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷", "徐斌", "孙丽", "马超", "朱琳", "胡军", "郭涛"],
        ChangeKinds: ["注册地址变更", "注册资本变更", "经营期限变更", "联系电话变更", "股东变更", "董事备案"],
        RepChange: "{0} 法定代表人变更：由{1}变更为{2}",
        ScopeAdd: "{0} 经营范围变更：新增{1}",
        NoPosts: "",
        PostFormat: "{0} 招聘{1}{2}名，月薪{3}-{4}元",
        Sep: "；");

    public static readonly Vocabulary English = new(
        Industries: ["manufacturing", "wholesale and retail", "construction", "information technology", "catering and lodging", "transport", "real estate", "agriculture", "financial services", "education"],
        Provinces: ["Guangdong", "Zhejiang", "Jiangsu", "Shandong", "Henan", "Sichuan", "Hubei", "Hunan", "Fujian", "Anhui", "Hebei", "Shanghai", "Beijing", "Chongqing", "Jiangxi", "Guangxi"],
        ScopeByIndustry: [
            ["hardware parts production", "plastic products processing", "machinery manufacturing", "mould design"], ["daily goods sales", "clothing wholesale", "food retail", "building materials sales"],
            ["building construction", "interior decoration", "municipal works", "steel structure installation"], ["software development", "systems integration", "data processing", "network consulting"],
            ["restaurant services", "meal delivery", "hotel lodging", "tea drinks"], ["freight transport", "warehousing", "urban delivery", "freight forwarding"],
            ["property brokerage", "property management", "housing rental", "real estate marketing"], ["vegetable growing", "pig farming", "aquaculture", "tree nursery"],
            ["commercial factoring", "leasing consulting", "financial consulting", "insurance agency"], ["vocational training", "art classes for children", "language training", "education consulting"]],
        UnrelatedScopes: ["blockchain services", "art investment consulting", "financing guarantees", "digital collectibles", "private equity consulting", "crypto technology", "livestream e-commerce", "medical device sales"],
        OrdinaryJobs: ["sales representative", "warehouse keeper", "accountant", "office assistant", "machine operator", "software engineer", "cook", "driver", "customer service agent", "project manager", "cashier", "store manager"],
        CollectorJobs: ["debt collector", "phone collections agent", "post-loan manager", "overdue accounts specialist", "field collections officer", "asset recovery specialist"],
        ProfileOpeners: ["{0} was founded in {1}. ", "Registered in {2} in {1}, the company ", "{0} is a {3} business in {2}, founded in {1}. ", "Established in {1} and based in {2}, "],
        ProfileClosers: ["We run the business with integrity and serve local customers.", "About {4} people work here and business is steady.", "We are committed to quality service.", "The business has grown in recent years.", "Our products sell in many provinces.", "Customers first, quality always."],
        ArrearsNotes: ["Staff recently said wages are three months late.", "Several former employees complained about unpaid salaries.", "The labour inspectorate received a wage-arrears report about the company.", "Employees say year-end bonuses and wages are still unpaid."],
        PatentNotes: ["The company holds several utility-model patents.", "It owns two invention patents.", "The R&D team holds software copyrights and patents."],
        HighTechNotes: ["The company is certified as a national high-tech enterprise.", "It was rated a high-tech and specialised SME."],
        Names: ["Zhang Wei", "Wang Fang", "Li Na", "Liu Yang", "Chen Jing", "Yang Lei", "Zhao Min", "Huang Qiang", "Zhou Jie", "Wu Ting", "Xu Bin", "Sun Li", "Ma Chao", "Zhu Lin", "Hu Jun", "Guo Tao"],
        ChangeKinds: ["registered address changed", "registered capital changed", "business term changed", "phone number changed", "shareholders changed", "director filing"],
        RepChange: "{0} legal representative changed from {1} to {2}",
        ScopeAdd: "{0} business scope changed: added {1}",
        NoPosts: "",
        PostFormat: "{0} hiring {2} {1}(s), monthly pay {3}-{4}",
        Sep: "; ");
}

/// <summary>Renders a company's hidden state as profile, recruitment and change-record texts.</summary>
internal static class Texts
{
    private static string Date(Random r, int yearFrom = 2019) => $"{yearFrom + r.Next(2025 - yearFrom + 1)}-{1 + r.Next(12):D2}-{1 + r.Next(28):D2}";

    public static string Profile(SmeDataGenerator.Latent l, Vocabulary w, Random r)
    {
        var sb = new StringBuilder();
        int founded = 2025 - (int)Math.Round(l.Years);
        string name = w == Vocabulary.Chinese ? w.Provinces[l.Province] + w.Names[r.Next(w.Names.Length)][..1] + "氏" + w.Industries[l.Industry][..2] + "有限公司" : $"{w.Provinces[l.Province]} {w.Names[r.Next(w.Names.Length)].Split(' ')[0]} Co., Ltd.";
        sb.AppendFormat(w.ProfileOpeners[r.Next(w.ProfileOpeners.Length)], name, founded, w.Provinces[l.Province], w.Industries[l.Industry], l.Employees);
        var scopes = w.ScopeByIndustry[l.Industry];
        var main = scopes.OrderBy(_ => r.Next()).Take(2 + r.Next(2)).ToArray();
        sb.Append(w == Vocabulary.Chinese ? "主营" + string.Join("、", main) + "。" : "main business: " + string.Join(", ", main) + ". ");
        if (l.ScopeDrift && r.NextDouble() < 0.5)
            sb.Append(w == Vocabulary.Chinese ? "近年拓展" + w.UnrelatedScopes[r.Next(w.UnrelatedScopes.Length)] + "等业务。" : "Recently expanded into " + w.UnrelatedScopes[r.Next(w.UnrelatedScopes.Length)] + ". ");
        if (l.Patents) sb.Append(w.PatentNotes[r.Next(w.PatentNotes.Length)]).Append(w == Vocabulary.Chinese ? "" : " ");
        if (l.HighTech) sb.Append(w.HighTechNotes[r.Next(w.HighTechNotes.Length)]).Append(w == Vocabulary.Chinese ? "" : " ");
        if (l.WageArrears && r.NextDouble() < 0.4) sb.Append(w.ArrearsNotes[r.Next(w.ArrearsNotes.Length)]).Append(w == Vocabulary.Chinese ? "" : " ");
        sb.AppendFormat(w.ProfileClosers[r.Next(w.ProfileClosers.Length)], name, founded, w.Provinces[l.Province], w.Industries[l.Industry], l.Employees);
        return sb.ToString().Trim();
    }

    public static string Recruitment(SmeDataGenerator.Latent l, Vocabulary w, Random r)
    {
        bool posts = r.NextDouble() >= 0.2 || l.Collectors || l.WageArrears;
        if (!posts) return w.NoPosts;
        var parts = new List<string>();
        int n = 1 + r.Next(3);
        for (int i = 0; i < n; i++)
        {
            int lowPay = 3000 + 500 * r.Next(12);
            parts.Add(string.Format(w.PostFormat, Date(r, 2024), w.OrdinaryJobs[r.Next(w.OrdinaryJobs.Length)], 1 + r.Next(5), lowPay, lowPay + 1000 + 500 * r.Next(8)));
        }
        if (l.Collectors)
        {
            int lowPay = 4000 + 500 * r.Next(8);
            string job = w.CollectorJobs[r.Next(w.CollectorJobs.Length)];
            parts.Insert(r.Next(parts.Count + 1), string.Format(w.PostFormat, Date(r, 2024), job, 3 + r.Next(15), lowPay, lowPay + 2000 + 1000 * r.Next(6))
                + (w == Vocabulary.Chinese ? (r.NextDouble() < 0.5 ? "，高提成" : "，经验不限") : (r.NextDouble() < 0.5 ? ", high commission" : ", no experience needed")));
        }
        if (l.WageArrears && r.NextDouble() < 0.7) parts.Add(w.ArrearsNotes[r.Next(w.ArrearsNotes.Length)]);
        return string.Join(w.Sep, parts);
    }

    public static string Changes(SmeDataGenerator.Latent l, Vocabulary w, Random r)
    {
        var records = new List<(string Date, string Text)>();
        string name = w.Names[r.Next(w.Names.Length)];
        for (int i = 0; i < l.RepChanges; i++)
        {
            string next = w.Names[r.Next(w.Names.Length)];
            if (next == name) next = w.Names[(Array.IndexOf(w.Names, name) + 1) % w.Names.Length];
            string d = Date(r);
            records.Add((d, string.Format(w.RepChange, d, name, next)));
            name = next;
        }
        if (l.ScopeDrift)
        {
            string d = Date(r);
            records.Add((d, string.Format(w.ScopeAdd, d, w.UnrelatedScopes[r.Next(w.UnrelatedScopes.Length)])));
        }
        else if (r.NextDouble() < 0.25)
        {
            string d = Date(r);   // decoy: a scope change within the company's own industry
            var own = w.ScopeByIndustry[l.Industry];
            records.Add((d, string.Format(w.ScopeAdd, d, own[r.Next(own.Length)])));
        }
        int ordinary = r.NextDouble() < 0.25 ? 0 : 1 + r.Next(3);
        for (int i = 0; i < ordinary; i++)
        {
            string d = Date(r);
            records.Add((d, $"{d} {w.ChangeKinds[r.Next(w.ChangeKinds.Length)]}"));
        }
        return string.Join(w.Sep, records.OrderByDescending(x => x.Date, StringComparer.Ordinal).Select(x => x.Text));
    }
}
