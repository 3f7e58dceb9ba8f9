"""Interface strings in English and Simplified Chinese.

``t(key, **fmt)`` returns the string for the language in ``st.session_state["lang"]``
(``"en"`` or ``"zh"``), formatted with ``fmt``. Unknown keys fall back to English, then to
the key itself, so a missing translation never breaks a page.
"""

from __future__ import annotations

import streamlit as st

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}

# key -> (English, 简体中文)
STRINGS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- frame
    "app.title": ("Fusion Studio", "Fusion Studio 融合推荐工作台"),
    "app.tagline": (
        "Train recommenders, fuse them, see what each user gets.",
        "训练推荐模型、融合它们，并查看每位用户得到的推荐。",
    ),
    "nav.data": ("Data", "数据"),
    "nav.train": ("Train", "训练"),
    "nav.fusion": ("Fusion lab", "融合实验室"),
    "nav.users": ("User explorer", "用户浏览"),
    "nav.items": ("Item explorer", "商品浏览"),
    "nav.insights": ("Insights", "洞察"),
    "nav.compare": ("Compare", "方案对比"),
    "nav.export": ("Export", "导出"),
    "nav.section.prepare": ("Prepare", "准备"),
    "nav.section.explore": ("Explore", "探索"),
    "nav.section.ship": ("Decide & ship", "决策与发布"),
    "side.language": ("Language", "语言"),
    "side.status": ("Status", "状态"),
    "side.dataset": ("Dataset", "数据集"),
    "side.run": ("Trained run", "训练结果"),
    "side.none": ("none yet", "暂无"),
    "side.workspace": ("Workspace", "工作区"),
    "side.fast": (
        "Fast mode (tests): small demo, few epochs",
        "快速模式（测试）：小型演示数据、少量轮次",
    ),
    "common.need_dataset": (
        "No dataset is active yet. Open **Data** to load the demo store or upload your CSVs.",
        "尚未选择数据集。请打开 **数据** 页面加载演示商店或上传 CSV 文件。",
    ),
    "common.need_run": (
        "No trained run yet for this dataset. Open **Train** and press *Train* (about a minute on the demo store).",
        "当前数据集还没有训练结果。请打开 **训练** 页面并点击 *开始训练*（演示数据约需一分钟）。",
    ),
    "common.engine_missing": (
        "The training engine is not available in this build yet.",
        "此版本尚未包含训练引擎。",
    ),
    "common.loading_run": ("Loading the trained run…", "正在加载训练结果……"),
    "common.run_load_failed": (
        "The saved run could not be loaded ({err}). Train again on the Train page.",
        "无法加载已保存的训练结果（{err}）。请在训练页面重新训练。",
    ),
    "common.go_data": ("Go to Data", "前往数据页"),
    "common.dataset_gone": (
        "The active dataset was deleted. Pick or upload another one on the Data page.",
        "当前数据集已被删除。请在数据页选择或上传其他数据集。",
    ),
    "common.go_train": ("Go to Train", "前往训练页"),
    "common.users": ("Users", "用户"),
    "common.items": ("Items", "商品"),
    "common.interactions": ("Interactions", "交互"),
    "common.density": ("Density", "稠密度"),
    "common.seconds": ("{s:.1f} s", "{s:.1f} 秒"),
    "common.error_prefix": ("Could not finish: ", "未能完成："),
    "common.count": ("Count", "数量"),
    "common.share": ("Share", "占比"),
    "common.model": ("Model", "模型"),
    "common.metric": ("Metric", "指标"),
    "common.value": ("Value", "数值"),
    "common.fusion": ("Fusion", "融合"),
    "common.baseline": ("Saved baseline", "已保存基线"),
    "common.all": ("All", "全部"),
    "common.segment": ("Segment", "用户分群"),
    "common.category": ("Category", "品类"),
    "common.brand": ("Brand", "品牌"),
    "common.price": ("Price", "价格"),
    "common.price_band": ("Price band", "价格带"),
    "common.title": ("Title", "名称"),
    "common.item": ("Item", "商品"),
    "common.user": ("User", "用户"),
    "common.score": ("Score", "得分"),
    "common.rank": ("Rank", "排名"),
    "common.none": ("(none)", "（无）"),
    # ---------------------------------------------------------------- data page
    "data.title": ("Data", "数据"),
    "data.intro": (
        "Start on the demo store or upload your own catalog and interaction CSVs. "
        "Several datasets can live in the workspace; the active one feeds every other page.",
        "可以从演示商店开始，也可以上传自己的商品目录和交互 CSV。"
        "工作区可保存多个数据集，当前数据集会用于其他所有页面。",
    ),
    "data.active": ("Active dataset", "当前数据集"),
    "data.pick": ("Datasets in the workspace", "工作区中的数据集"),
    "data.demo_button": ("Load the demo store", "加载演示商店"),
    "data.demo_help": (
        "A seeded phone-and-accessories store: users, items with titles, categories, brands and prices, "
        "and views / carts / purchases over several months.",
        "一个带随机种子的手机及配件商店：包含用户、带名称/品类/品牌/价格的商品，以及数月的浏览/加购/购买记录。",
    ),
    "data.demo_creating": ("Creating the demo store…", "正在生成演示商店……"),
    "data.demo_done": ("Demo store ready: {name}", "演示商店已就绪：{name}"),
    "data.first_start": (
        "Welcome! The workspace was empty, so the demo store was loaded for you.",
        "欢迎！工作区为空，已为你自动加载演示商店。",
    ),
    "data.upload_header": ("Upload your data", "上传你的数据"),
    "data.upload_interactions": ("Interactions CSV (required)", "交互记录 CSV（必填）"),
    "data.upload_catalog": ("Catalog CSV (optional)", "商品目录 CSV（可选）"),
    "data.upload_users": ("User attributes (optional)", "用户属性（可选）"),
    "data.upload_users_help": (
        "One row per user: a user id column plus attributes such as age, city tier or "
        "membership. LightFM uses them as user features (helps users with few interactions).",
        "每行一个用户：用户 ID 列加上年龄、城市等级、会员等级等属性。"
        "LightFM 会把它们用作用户特征（对交互很少的用户有帮助）。",
    ),
    "data.roles_users": ("Columns of the user attribute file", "用户属性文件的列"),
    "data.users_with_attributes": (
        "{n:,} of {total:,} users have attributes ({columns}).",
        "{total:,} 个用户中有 {n:,} 个带有属性（{columns}）。",
    ),
    "data.preview_users": ("User attributes (first rows)", "用户属性（前几行）"),
    "data.file.users": ("User attributes", "用户属性"),
    "data.missing_role.users_user": (
        "Pick the column of {file} that holds the user id, or remove the user attribute file.",
        "请选择 {file} 中表示用户 ID 的列，或移除用户属性文件。",
    ),
    "data.upload_help": (
        "One row per event: user, item, and optionally event type, rating, quantity, time. "
        "Any delimiter and common encodings (UTF-8, GBK, Latin-1) are detected.",
        "每行一个事件：用户、商品，以及可选的事件类型、评分、数量、时间。"
        "自动识别分隔符和常见编码（UTF-8、GBK、Latin-1）。",
    ),
    "data.roles_interactions": ("Columns of the interactions file", "交互文件的列"),
    "data.roles_catalog": ("Columns of the catalog file", "商品目录文件的列"),
    "data.roles_help": (
        "Detected automatically; change a role if the guess is wrong.",
        "已自动识别；如识别有误请修改。",
    ),
    "data.role.user": ("User id", "用户 ID"),
    "data.role.item": ("Item id", "商品 ID"),
    "data.role.rating": ("Rating", "评分"),
    "data.role.event": ("Event type", "事件类型"),
    "data.role.quantity": ("Quantity", "数量"),
    "data.role.timestamp": ("Time", "时间"),
    "data.role.order": ("Order id", "订单号"),
    "data.role.title": ("Title", "名称"),
    "data.role.description": ("Description", "描述"),
    "data.role.category": ("Category", "品类"),
    "data.role.brand": ("Brand", "品牌"),
    "data.role.price": ("Price", "价格"),
    "data.event_weights": ("Event weights", "事件权重"),
    "data.event_weights_help": (
        "How strongly each event type counts as interest (a purchase usually counts more than a view).",
        "每种事件代表兴趣的强度（购买通常比浏览更重要）。",
    ),
    "data.event": ("Event", "事件"),
    "data.weight": ("Weight", "权重"),
    "data.name": ("Dataset name", "数据集名称"),
    "data.check_save": ("Check and save", "检查并保存"),
    "data.saved": ("Saved and activated: {name}", "已保存并设为当前数据集：{name}"),
    "data.upload_failed": (
        "This upload cannot be used — {err} The previously active dataset is kept.",
        "该上传无法使用——{err} 已保留之前的数据集。",
    ),
    "data.read_failed": ("Could not read {file}: {err}", "无法读取 {file}：{err}"),
    "data.report": ("Readiness report", "就绪报告"),
    "data.dropped": ("Dropped rows", "已丢弃的行"),
    "data.warnings": ("Warnings", "警告"),
    "data.no_warnings": ("No warnings: the data looks ready.", "没有警告：数据已就绪。"),
    "data.preview": ("Preview", "预览"),
    "data.preview_events": ("Interactions (first rows)", "交互记录（前几行）"),
    "data.preview_catalog": ("Catalog (first rows)", "商品目录（前几行）"),
    "data.charts": ("Charts", "图表"),
    "data.chart.per_user": ("Interactions per user", "每位用户的交互数"),
    "data.chart.per_item": ("Interactions per item", "每个商品的交互数"),
    "data.chart.n_interactions": ("Interactions (logarithmic bins)", "交互数（对数分箱）"),
    "data.chart.n_users": ("Users (log scale)", "用户数（对数坐标）"),
    "data.chart.n_items": ("Items (log scale)", "商品数（对数坐标）"),
    "data.chart.items": ("Items", "商品"),
    "data.chart.category_mix": (
        "Category mix (catalog items and interactions)",
        "品类构成（商品数与交互数）",
    ),
    "data.chart.brand_mix": ("Top brands by interactions", "交互数最多的品牌"),
    "data.chart.price_bands": ("Price bands", "价格带分布"),
    "data.chart.activity": (
        "Activity over time (new user-item pairs per week)",
        "随时间的活跃度（每周新增用户-商品对）",
    ),
    "data.chart.week": ("Week", "周"),
    "data.chart.kind": ("Counted", "统计口径"),
    "data.chart.no_time": (
        "The data has no timestamps, so there is no activity chart.",
        "数据没有时间戳，无法绘制活跃度图。",
    ),
    "data.chart.no_catalog": (
        "No catalog attribute for this chart.",
        "商品目录中缺少此图所需的属性。",
    ),
    "data.pairs": ("User–item pairs", "用户-商品对"),
    "data.pairs_help": (
        "{n:,} events, aggregated per user and item.",
        "共 {n:,} 个事件，按用户和商品汇总。",
    ),
    "data.created": ("created", "创建于"),
    "data.delete": ("Delete", "删除"),
    "data.delete_help": (
        "Delete the active dataset and the runs trained on it (asks for confirmation).",
        "删除当前数据集及其训练结果（需确认）。",
    ),
    "data.delete_confirm": (
        "Delete **{name}** from the workspace? This cannot be undone.",
        "从工作区删除 **{name}**？此操作无法撤销。",
    ),
    "data.delete_runs": (
        "Its {n} trained run(s) are deleted too.",
        "其 {n} 个训练结果也会一并删除。",
    ),
    "data.delete_yes": ("Delete permanently", "永久删除"),
    "data.deleted": ("Deleted: {name}", "已删除：{name}"),
    "data.saved_dropped": (
        "{n:,} row(s) were dropped — see the readiness report.",
        "有 {n:,} 行被丢弃——详见就绪报告。",
    ),
    "data.kept_active": ("The active dataset is unchanged.", "当前数据集保持不变。"),
    "data.missing_role.user": (
        "Pick the column of {file} that holds the user (customer) id.",
        "请选择 {file} 中表示用户（顾客）ID 的列。",
    ),
    "data.missing_role.item": (
        "Pick the column of {file} that holds the item (product) id.",
        "请选择 {file} 中表示商品 ID 的列。",
    ),
    "data.missing_role.catalog_item": (
        "Pick the column of {file} that holds the item (product) id, or remove the catalog file.",
        "请选择 {file} 中表示商品 ID 的列，或移除商品目录文件。",
    ),
    "data.file.interactions": ("Interactions", "交互记录"),
    "data.file.catalog": ("Catalog", "商品目录"),
    "data.rows_read_kept": (
        "{read:,} rows read, {kept:,} kept",
        "读取 {read:,} 行，保留 {kept:,} 行",
    ),
    "data.dropped_summary": (
        "{n:,} row(s) of {file} were dropped; the table gives the reason and the line numbers.",
        "{file} 中有 {n:,} 行被丢弃；下表列出原因和行号。",
    ),
    "data.dropped_reason": ("Reason", "原因"),
    "data.dropped_rows": ("Rows", "行数"),
    "data.dropped_lines": ("Lines in the file", "文件中的行号"),
    "data.chart.ratings": ("Rating distribution (user–item pairs)", "评分分布（用户-商品对）"),
    "data.chart.unknown": ("(unknown)", "（未知）"),
    "data.chart.missing": (
        "Not in this dataset, so not charted: {what}.",
        "此数据集中没有以下信息，因此未绘制：{what}。",
    ),
    "data.chart.missing_time": ("timestamps", "时间戳"),
    "data.empty": ("The workspace has no dataset yet.", "工作区还没有数据集。"),
    # ---------------------------------------------------------------- train page
    "train.title": ("Train", "训练"),
    "train.intro": (
        "Pick the models to fuse and their settings, then train. Every model is fitted on a training "
        "split (for honest held-out metrics) and on all data (for the lists you export).",
        "选择要融合的模型及其参数，然后开始训练。每个模型都会在训练集上拟合（用于客观的留出评估），"
        "并在全部数据上拟合（用于导出的推荐列表）。",
    ),
    "train.runs": ("Trained runs of this dataset", "此数据集的训练结果"),
    "train.models": ("Models", "模型"),
    "train.models_help": (
        "Models marked (slow) take long to train. Five complementary models are a good start.",
        "标有（慢）的模型训练较慢。建议从五个互补的模型开始。",
    ),
    "train.slow_mark": (" (slow)", "（慢）"),
    "train.none_help": ("Leave empty for none.", "留空表示不设置。"),
    "train.slow_warning": (
        "{model} is slow: expect about {est} s on this dataset (three fits: validation, test, all data).",
        "{model} 训练较慢：在此数据集上预计约 {est} 秒（共拟合三次：验证、测试、全量）。",
    ),
    "train.confirm_slow": ("Yes, train the slow model(s) too", "是的，也训练较慢的模型"),
    "train.eval_settings": ("Evaluation settings", "评估设置"),
    "train.split": ("Held-out split", "留出划分方式"),
    "train.split.temporal": ("Temporal (latest interactions held out)", "按时间（留出最近的交互）"),
    "train.split.random": ("Random", "随机"),
    "train.split.leave_last": ("Leave last per user", "每位用户留出最后一次"),
    "train.split.time_cutoff": ("Time cutoff", "按时间点切分"),
    "train.test_fraction": ("Held-out share", "留出比例"),
    "train.k": ("List length k", "列表长度 k"),
    "train.candidates": ("Candidates per model", "每个模型的候选数"),
    "train.candidates_help": (
        "Each model proposes this many items per user; fusion re-orders their union.",
        "每个模型为每位用户提供的候选商品数；融合在它们的并集上重新排序。",
    ),
    "train.button": ("Train", "开始训练"),
    "train.running": ("Training…", "训练中……"),
    "train.overall": ("Overall", "总体进度"),
    "train.pools": ("Building candidate pools…", "正在构建候选池……"),
    "train.tune": (
        "Tune fusion weights on the validation split after training",
        "训练后在验证集上调优融合权重",
    ),
    "train.tune_help": (
        "A few seconds: searches the model weights that give the best NDCG on the validation "
        "users (never the held-out test users). The Fusion lab then starts from these weights.",
        "只需几秒：在验证用户（不含留出的测试用户）上搜索使 NDCG 最高的模型权重，"
        "融合实验室将从这些权重开始。",
    ),
    "train.tuning": (
        "Tuning fusion weights on the validation split…",
        "正在验证集上调优融合权重……",
    ),
    "train.stage.validation": ("validation fit", "验证集拟合"),
    "train.stage.test": ("test fit", "测试集拟合"),
    "train.stage.full": ("all data", "全量数据"),
    "train.stage.pools": ("pools", "候选池"),
    "train.failed": ("Training failed", "训练失败"),
    "train.failed_msg": (
        "Training stopped: {err} Earlier runs are kept; change the settings and try again.",
        "训练已停止：{err} 之前的训练结果仍保留；请调整设置后重试。",
    ),
    "train.split_caption": (
        "Held-out split: {method} · train {train_pairs} pairs of {train_users} users · "
        "test {test_pairs} pairs of {test_users} users.",
        "留出划分：{method} · 训练集 {train_users} 位用户的 {train_pairs} 个用户-商品对 · "
        "测试集 {test_users} 位用户的 {test_pairs} 个用户-商品对。",
    ),
    "train.split_cold": (
        "{n} test pairs are on items unseen in training (only content models can find them).",
        "测试集中有 {n} 个用户-商品对涉及训练中未出现的商品（只有基于内容的模型能找到）。",
    ),
    "train.done": ("Trained and saved in {s:.0f} s.", "训练完成并已保存，用时 {s:.0f} 秒。"),
    "train.metrics": (
        "Held-out metrics of each model (top-{k})",
        "各模型的留出评估指标（前 {k} 名）",
    ),
    "train.metrics_help": (
        "Measured on interactions the models did not see. Higher is better except RMSE; the best value per column is highlighted.",
        "在模型未见过的交互上测得。除 RMSE 外数值越高越好；每列最佳值已高亮。",
    ),
    "train.fit_seconds": ("Fit time (s)", "训练耗时（秒）"),
    "train.next": ("Next: fuse the models in the Fusion lab", "下一步：在融合实验室中融合模型"),
    # ---------------------------------------------------------------- metrics
    "metric.ndcg": ("NDCG@{k}", "NDCG@{k}"),
    "metric.precision": ("Precision@{k}", "精确率@{k}"),
    "metric.recall": ("Recall@{k}", "召回率@{k}"),
    "metric.map": ("MAP@{k}", "MAP@{k}"),
    "metric.hit_rate": ("Hit rate@{k}", "命中率@{k}"),
    "metric.mrr": ("MRR@{k}", "MRR@{k}"),
    "metric.f1": ("F1@{k}", "F1@{k}"),
    "metric.coverage": ("Catalog coverage", "目录覆盖率"),
    "metric.diversity": ("Diversity", "多样性"),
    "metric.novelty": ("Novelty (bits)", "新颖性（比特）"),
    "metric.personalization": ("Personalisation", "个性化程度"),
    "metric.serendipity": ("Serendipity", "惊喜度"),
    "metric.gini": ("Gini", "基尼系数"),
    "metric.distributional_coverage": ("Distributional coverage", "分布覆盖率（熵）"),
    "metric.avg_popularity": ("Average popularity", "平均流行度"),
    "metric.rmse": ("RMSE", "RMSE"),
    "metric.mae": ("MAE", "MAE"),
    # ---------------------------------------------------------------- model and method names (zh only)
    "model.popularity": ("Popularity", "热门"),
    "model.trending": ("Trending", "近期热门（时间衰减）"),
    "model.item_knn": ("Item kNN", "商品近邻（共同购买）"),
    "model.content_tfidf": ("Content (TF-IDF)", "内容相似（TF-IDF）"),
    "fusion.weighted.label": ("", "加权求和（CombSUM）"),
    "fusion.weighted.description": ("", "各模型归一化得分乘以权重后求和。"),
    "fusion.combmnz.label": ("", "CombMNZ"),
    "fusion.combmnz.description": ("", "加权和乘以召回该商品的模型数量：奖励模型间的一致。"),
    "fusion.rrf.label": ("", "倒数排名融合（RRF）"),
    "fusion.rrf.description": ("", "对 权重 / (60 + 排名) 求和：稳健，只使用排名。"),
    "fusion.borda.label": ("", "Borda 计数"),
    "fusion.borda.description": ("", "每个模型按排名给分（越靠前分越高），再按权重求和。"),
    "fusion.condorcet.label": ("", "Condorcet（Copeland）"),
    "fusion.condorcet.description": ("", "在加权两两对决中胜出最多的商品排在前面。"),
    "fusion.cascade.label": ("", "级联"),
    "fusion.cascade.description": ("", "由主模型决定；后续模型打破平局，并在主模型不确定时补位。"),
    "fusion.stacking.label": ("", "堆叠（学习式）"),
    "fusion.stacking.description": ("", "在验证集上训练一个小分类器来学习如何组合各模型。"),
    # ---------------------------------------------------------------- fusion lab
    "lab.title": ("Fusion lab", "融合实验室"),
    "lab.intro": (
        "Blend the trained models and tune the final lists. Every change re-scores the held-out users at once; "
        "no model is retrained.",
        "融合已训练的模型并调整最终列表。每次修改都会立即在留出用户上重新评估，无需重新训练模型。",
    ),
    "lab.method": ("Fusion method", "融合方法"),
    "lab.normalization": ("Score normalisation", "得分归一化"),
    "lab.norm.minmax": ("Min–max per user", "按用户最小-最大"),
    "lab.norm.zscore": ("Z-score per user", "按用户 Z 分数"),
    "lab.norm.rank": ("Rank-based", "基于排名"),
    "lab.norm.borda": ("Borda points", "Borda 积分"),
    "lab.weights": ("Model weights", "模型权重"),
    "lab.no_weights": ("This method does not use weights.", "此方法不使用权重。"),
    "lab.rerank": ("Re-ranking", "重排序"),
    "lab.mmr": ("MMR λ (1 = pure relevance)", "MMR λ（1 = 只看相关性）"),
    "lab.mmr_help": (
        "Lower values trade relevance for variety: each next item must differ from the ones above it.",
        "数值越低越强调多样性：后续商品需与前面的商品不同。",
    ),
    "lab.cat_cap": ("Max items per category", "每个品类最多商品数"),
    "lab.brand_cap": ("Max items per brand", "每个品牌最多商品数"),
    "lab.cap_help": ("0 = no cap.", "0 = 不限制。"),
    "lab.novelty": ("Novelty boost", "新颖性加权"),
    "lab.novelty_help": ("Pushes less popular items up.", "提升不太热门的商品。"),
    "lab.exclude": ("Leave out", "排除"),
    "lab.exclude.seen": ("Items the user already interacted with", "用户已交互过的商品"),
    "lab.exclude.purchased": ("Items the user already bought", "用户已购买的商品"),
    "lab.exclude.none": ("Nothing", "不排除"),
    "lab.rules": ("Merchandising rules", "运营规则"),
    "lab.rules_help": (
        "filter keeps only matching items; boost (factor > 1) / bury (factor < 1) scale their score; "
        "pin puts an item id at a position. Values: a number, text, or a comma list for in / between.",
        "筛选（filter）只保留匹配的商品；提升（boost，系数 > 1）/ 压低（bury，系数 < 1）调整其得分；"
        "置顶（pin）将指定商品固定在某个位置。"
        "值可以是数字、文本，或用逗号分隔的列表（用于 in / between）。",
    ),
    "lab.rule.kind": ("Rule", "规则"),
    "lab.kind.filter": ("filter", "筛选"),
    "lab.kind.boost": ("boost", "提升"),
    "lab.kind.bury": ("bury", "压低"),
    "lab.kind.pin": ("pin", "置顶"),
    "lab.seg_all": ("all", "全部"),
    "lab.rule.column": ("Column", "列"),
    "lab.rule.op": ("Operator", "运算符"),
    "lab.rule.value": ("Value", "值"),
    "lab.rule.value_help": (
        "e.g. Case · 1000, 3000 · Apple, Samsung",
        "例如 Case · 1000, 3000 · Apple, Samsung",
    ),
    "lab.rule.factor": ("Factor", "系数"),
    "lab.rule.item_id": ("Item id (pin)", "商品 ID（固定）"),
    "lab.rule.position": ("Position", "位置"),
    "lab.rule.segment": ("Users", "用户群"),
    "lab.rule_invalid": (
        "Rule {err} — fix or delete this row; it is ignored for now.",
        "规则 {err} —— 请修改或删除此行；暂时忽略。",
    ),
    "lab.delta_help": ("Change against the baseline.", "相对基线的变化。"),
    "lab.updated": (
        "Held-out metrics of {n:,} users, updated in {ms:.0f} ms.",
        "{n:,} 位留出用户的指标，更新用时 {ms:.0f} 毫秒。",
    ),
    "lab.chart": ("Chart", "图表"),
    "lab.table": ("All metrics", "全部指标"),
    "lab.table_help": (
        "Each single model is ranked inside the same candidate pool. Novelty is in bits (higher = less popular items).",
        "每个单模型都在同一候选池内排序。新颖性单位为比特（越高代表推荐的商品越冷门）。",
    ),
    "lab.sample_lists": ("Sample lists", "列表示例"),
    "lab.list": ("Recommended items, best first", "推荐商品（按顺序）"),
    "lab.chart_title": (
        "Fusion vs baseline vs each model (held-out, top-{k})",
        "融合 vs 基线 vs 各单模型（留出集，前 {k} 名）",
    ),
    "lab.chart_accuracy": (
        "Accuracy on held-out interactions (top-{k}; higher is better)",
        "留出集准确度（前 {k} 名；越高越好）",
    ),
    "lab.chart_beyond": (
        "Beyond accuracy: catalog reach and variety of the lists (top-{k})",
        "准确度之外：目录覆盖与列表多样性（前 {k} 名）",
    ),
    "lab.chart_help": (
        "Each panel has its own scale (starting at 0), so small accuracy differences stay visible. "
        "Coverage, diversity and personalisation are shares (0–1); novelty is in bits.",
        "每个小图使用各自的纵轴（从 0 开始），因此准确度的细微差异也能看清。"
        "覆盖率、多样性和个性化程度为 0–1 的比例；新颖性单位为比特。",
    ),
    "lab.autotune": ("Auto-tune the weights", "自动调参（权重）"),
    "lab.objective": ("Maximise", "优化目标"),
    "lab.min_coverage": ("Min catalog coverage", "最低目录覆盖率"),
    "lab.min_diversity": ("Min diversity", "最低多样性"),
    "lab.autotune_button": ("Auto-tune", "自动调参"),
    "lab.tuning": ("Searching weights on the validation split…", "正在验证集上搜索权重……"),
    "lab.tuned": (
        "Best {obj} on the validation split: {value:.4f} after {n} trials ({s:.1f} s). The sliders now hold these weights.",
        "验证集上最佳 {obj}：{value:.4f}（共尝试 {n} 组，用时 {s:.1f} 秒）。滑块已设为这些权重。",
    ),
    "lab.tuned_infeasible": (
        "No weighting met every constraint in {n} trials; the closest one ({obj} {value:.4f}) is applied. Loosen a constraint and try again.",
        "在 {n} 组尝试中没有满足全部约束的权重；已应用最接近的一组（{obj} {value:.4f}）。请放宽约束后重试。",
    ),
    "lab.pareto_axis": ("Trade-off against", "权衡维度"),
    "lab.pareto_title": (
        "Tried weightings ({n}) on the validation split",
        "在验证集上尝试过的权重组合（{n} 组）",
    ),
    "lab.pareto_help": (
        "Each dot is one weighting. The dotted line is the Pareto front (nothing beats it on both axes); "
        "the diamond is the chosen best, the star your current setting.",
        "每个点代表一种权重组合。虚线为帕累托前沿（没有其他点在两个维度上同时更优）；菱形为选出的最佳组合，星形为当前设置。",
    ),
    "lab.feasible": ("Meets constraints", "满足约束"),
    "lab.infeasible": ("Breaks a constraint", "不满足约束"),
    "lab.front": ("Pareto front", "帕累托前沿"),
    "lab.best": ("Best", "最佳"),
    "lab.current": ("Current", "当前"),
    "lab.presets": ("Presets", "预设方案"),
    "lab.preset_name": ("Name for the current setting", "当前设置的名称"),
    "lab.save_preset": ("Save as preset", "保存为预设"),
    "lab.preset_saved": ("Saved preset '{name}'.", "已保存预设“{name}”。"),
    "lab.no_presets": ("No saved presets yet.", "还没有已保存的预设。"),
    "lab.pick_preset": ("Saved presets", "已保存的预设"),
    "lab.load_preset": ("Load", "加载"),
    "lab.rename_to": ("New name", "新名称"),
    "lab.rename": ("Rename", "重命名"),
    "lab.baseline": ("Compare against", "对比基线"),
    "lab.baseline_help": (
        "The trained preset or any saved preset.",
        "训练时的预设或任一已保存的预设。",
    ),
    "lab.trained_preset": ("Trained preset (equal weights)", "训练时的预设（等权重）"),
    "lab.weights_tuned": (
        "Starting point: the weights tuned on the validation split after training.",
        "起点：训练后在验证集上调优得到的权重。",
    ),
    "lab.trained_preset_tuned": (
        "Trained preset (weights tuned on validation)",
        "训练时的预设（权重已在验证集上调优）",
    ),
    # ---------------------------------------------------------------- segments / events
    "seg_short.new": ("New", "新用户"),
    "seg_short.cold": ("Cold", "冷启动"),
    "seg_short.regular": ("Regular", "普通"),
    "seg_short.heavy": ("Heavy", "重度"),
    "seg_short.": ("—", "—"),
    "seg.new": ("New", "新用户"),
    "seg.cold": ("Cold (few interactions)", "冷启动（交互少）"),
    "seg.regular": ("Regular", "普通"),
    "seg.heavy": ("Heavy", "重度"),
    "seg.all": ("All users", "全部用户"),
    "seg.": ("—", "—"),
    "strategy.warm": ("Full fusion", "完整融合"),
    "strategy.cold": ("Cold-start fallback", "冷启动兜底"),
    "strategy.new": ("New-user fallback (popular)", "新用户兜底（热门）"),
    "strategy.history": ("From session history", "基于会话历史"),
    "strategy.": ("—", "—"),
    "event.view": ("View", "浏览"),
    "event.cart": ("Add to cart", "加购"),
    "event.purchase": ("Purchase", "购买"),
    "event.favorite": ("Favourite", "收藏"),
    "event.other": ("Other", "其他"),
    # ---------------------------------------------------------------- user explorer
    "ue.title": ("User explorer", "用户浏览"),
    "ue.intro": (
        "Pick a user to see their history, what the fused strategy recommends and why, each model's own list, "
        "and how the list reacts to a new view, cart or purchase.",
        "选择一位用户，查看其历史、融合策略的推荐及原因、各模型各自的列表，以及新的浏览/加购/购买会如何改变列表。",
    ),
    "ue.search": ("Search user id", "搜索用户 ID"),
    "ue.no_match": ("No user id matches.", "没有匹配的用户 ID。"),
    "ue.user": ("User", "用户"),
    "ue.user_help": (
        "Type to search; the number is how many items the user interacted with.",
        "输入以搜索；数字为该用户交互过的商品数。",
    ),
    "ue.items_short": ("items", "件商品"),
    "ue.profile": ("Profile", "用户画像"),
    "ue.fused": ("Fused list", "融合推荐列表"),
    "ue.models": ("Each model's list", "各模型列表"),
    "ue.whatif": ("What-if", "假设模拟"),
    "ue.n_items": ("Items interacted with", "交互过的商品数"),
    "ue.strategy": ("Served by", "推荐策略"),
    "ue.cold_info": (
        "This user has too few interactions for the collaborative models: the list comes from the fallback "
        "(content, co-purchase and popularity signals).",
        "该用户交互太少，协同过滤模型无法使用：列表来自兜底策略（内容、共同购买和热门信号）。",
    ),
    "ue.fav_categories": ("Favourite categories", "偏好品类"),
    "ue.fav_brands": ("Favourite brands", "偏好品牌"),
    "ue.interest": ("Interest (summed event weight)", "兴趣度（事件权重之和）"),
    "ue.time": ("First seen", "首次交互"),
    "ue.n_events": ("Events", "事件数"),
    "ue.purchased": ("Bought", "已购买"),
    "ue.rating": ("Rating", "评分"),
    "train.tuned_weights": (
        "Fusion weights tuned on the validation split: {weights}. The Fusion lab starts from them.",
        "已在验证集上调优的融合权重：{weights}。融合实验室将从这些权重开始。",
    ),
    "ue.interest_rating": ("Interest (summed rating)", "兴趣度（评分之和）"),
    "ue.fused_help": (
        "The final list after fusion, re-ranking and rules (current Fusion lab setting).",
        "经过融合、重排序和规则之后的最终列表（使用融合实验室的当前设置）。",
    ),
    "ue.moved_diversity": ("moved for variety", "为多样性调整了位置"),
    "ue.moved": ("{n} places by rules / novelty", "因规则/新颖性移动 {n} 位"),
    "ue.because": ("because you interacted with {title}", "因为你看过 {title}"),
    "ue.contrib_title": (
        "What each model contributed to each item's score",
        "各模型对每个商品得分的贡献",
    ),
    "ue.contrib_axis": ("Weighted normalised score", "加权归一化得分"),
    "ue.explain_failed": (
        "Explanations are not available ({err}); showing the plain list.",
        "暂无解释（{err}）；显示普通列表。",
    ),
    "ue.empty_list": (
        "No recommendation for this user with the current rules.",
        "在当前规则下该用户没有推荐结果。",
    ),
    "ue.in_fused": ("In fused", "在融合列表中"),
    "ue.models_help": (
        "Ticked items also appear in the fused list.",
        "勾选的商品也出现在融合列表中。",
    ),
    "ue.wi_intro": (
        "Simulate this user's next actions: the list is recomputed from their history plus the session, without retraining.",
        "模拟该用户接下来的行为：基于其历史和本次会话重新计算列表，无需重新训练。",
    ),
    "ue.wi_item": ("Item", "商品"),
    "ue.wi_event": ("Action", "行为"),
    "ue.wi_add": ("Add", "添加"),
    "ue.wi_reset": ("Reset", "重置"),
    "ue.wi_help": (
        "Add a view, cart or purchase to see the list react.",
        "添加一次浏览、加购或购买，查看列表的变化。",
    ),
    "ue.wi_updated": (
        "Updated in {ms:.0f} ms · {n} new item(s) compared with the list above.",
        "更新用时 {ms:.0f} 毫秒 · 与原列表相比新增 {n} 个商品。",
    ),
    "ue.wi_new": ("New", "新增"),
    # ---------------------------------------------------------------- item explorer
    "ie.title": ("Item explorer", "商品浏览"),
    "ie.intro": (
        "Pick an item to see what is similar to it, what is bought together with it, and which users are most likely to want it.",
        "选择一个商品，查看与其相似的商品、经常一起购买的商品，以及最可能想要它的用户。",
    ),
    "ie.item": ("Item", "商品"),
    "ie.item_help": (
        "Most popular first; type to search by title or id.",
        "按热度排序；输入名称或 ID 搜索。",
    ),
    "ie.k": ("How many", "数量"),
    "ie.price_unknown": ("unknown", "未知"),
    "ie.buyers": ("Users who interacted", "交互过的用户数"),
    "ie.similar": ("Similar items", "相似商品"),
    "ie.audience": ("Audience (who wants it)", "目标人群（谁想要它）"),
    "ie.by_content": (
        "Similar by content (title, category, brand, price)",
        "内容相似（名称、品类、品牌、价格）",
    ),
    "ie.by_cooc": ("Bought together (co-occurrence)", "经常一起购买（共现）"),
    "ie.similarity": ("Similarity", "相似度"),
    "ie.no_similar": ("No similar item found.", "没有找到相似商品。"),
    "ie.similar_help": (
        "Content similarity compares catalog attributes; co-occurrence counts users who interacted with both items (cosine-normalised).",
        "内容相似度比较商品目录属性；共现统计同时与两件商品交互过的用户（余弦归一化）。",
    ),
    "ie.likelihood": ("Likelihood", "可能性"),
    "ie.aud_segments": ("Audience by user segment", "目标人群的用户分群"),
    "ie.audience_help": (
        "Users ranked by how highly the fused models place this item for them (users who already have it are left out).",
        "按融合模型为用户给出的该商品排名高低排序（已拥有该商品的用户已排除）。",
    ),
    # ---------------------------------------------------------------- insights
    "ins.title": ("Insights", "洞察"),
    "ins.intro": (
        "How the current strategy spreads over the catalog and the users: coverage, long tail, categories, novelty, diversity and segments.",
        "当前策略在商品目录和用户上的分布：覆盖率、长尾、品类、新颖性、多样性和用户分群。",
    ),
    "ins.computing": ("Computing lists for every user…", "正在为所有用户计算推荐列表……"),
    "ins.coverage": ("Catalog coverage (all users)", "目录覆盖率（所有用户）"),
    "ins.coverage_help": (
        "Share of catalog items that appear in at least one user's list.",
        "至少出现在一位用户列表中的商品占比。",
    ),
    "ins.gini_recs": ("Gini of recommendations", "推荐的基尼系数"),
    "ins.vs_history": ("vs history", "相对历史"),
    "ins.gini_help": (
        "0 = every item recommended equally often, 1 = everything goes to one item. Compared with the interaction history.",
        "0 = 每个商品被推荐的次数相同，1 = 全部集中在一个商品上。与交互历史对比。",
    ),
    "ins.never": ("Items never recommended", "从未被推荐的商品"),
    "ins.lorenz_title": ("Long tail: Lorenz curve", "长尾：洛伦兹曲线"),
    "ins.lorenz_recs": ("Recommendations (Gini {g:.2f})", "推荐（基尼 {g:.2f}）"),
    "ins.lorenz_hist": ("Interactions (Gini {g:.2f})", "交互（基尼 {g:.2f}）"),
    "ins.equality": ("Perfect equality", "完全均衡"),
    "ins.lorenz_x": ("Items, least to most exposed (%)", "商品，从曝光最少到最多（%）"),
    "ins.lorenz_y": ("Cumulative share (%)", "累计占比（%）"),
    "ins.tail_title": ("Popularity vs exposure per item", "每个商品的热度与曝光"),
    "ins.tail_hist": ("Users who interacted", "交互用户数"),
    "ins.tail_recs": ("Lists it appears in", "出现在的列表数"),
    "ins.tail_x": ("Items ranked by popularity", "按热度排序的商品"),
    "ins.tail_y": ("Count (log scale)", "数量（对数坐标）"),
    "ins.never_title": ("Never recommended ({n})", "从未被推荐（{n}）"),
    "ins.never_help": (
        "Candidates for a boost rule or a content-based model with more weight, if they should sell.",
        "如需提升这些商品的销量，可考虑添加提升规则或增加内容模型的权重。",
    ),
    "ins.n_interactions": ("Interactions", "交互数"),
    "ins.rule": ("Definition", "定义"),
    "ins.share_title": ("Category share: recommendations vs histories", "品类占比：推荐 vs 历史"),
    "ins.share_hist": ("Histories", "历史"),
    "ins.share_recs": ("Recommendations", "推荐"),
    "ins.segments_title": ("Held-out metrics by user segment", "按用户分群的留出指标"),
    "ins.dist_novelty": ("Novelty per user (held-out users)", "每位用户的新颖性（留出用户）"),
    "ins.dist_diversity": ("Diversity per user (held-out users)", "每位用户的多样性（留出用户）"),
    "ins.mean": ("mean", "均值"),
    "ins.dist_help": (
        "Distributions over the {n:,} held-out users.",
        "基于 {n:,} 位留出用户的分布。",
    ),
    # ---------------------------------------------------------------- compare
    "cmp.same": (
        "A and B are the same strategy: every difference is zero. Move a slider in the Fusion "
        "lab or pick a saved preset to compare.",
        "A 与 B 是同一策略，所有差异均为零。请在融合实验室中调整滑块，或选择一个已保存的预设进行对比。",
    ),
    "cmp.title": ("Compare", "方案对比"),
    "cmp.intro": (
        "Two strategies side by side on the same held-out users: which metrics move, whether the move is significant, and how much the lists change.",
        "在相同的留出用户上并排比较两种策略：哪些指标变化、变化是否显著，以及列表变化有多大。",
    ),
    "cmp.current": ("Current Fusion lab setting", "融合实验室当前设置"),
    "cmp.a": ("Strategy A", "策略 A"),
    "cmp.b": ("Strategy B", "策略 B"),
    "cmp.computing": ("Comparing…", "正在对比……"),
    "cmp.users": ("Users compared", "参与对比的用户"),
    "cmp.mean_overlap": ("Mean list overlap (Jaccard)", "平均列表重合度（Jaccard）"),
    "cmp.overlap_help": (
        "1 = identical lists, 0 = nothing in common.",
        "1 = 列表完全相同，0 = 完全不同。",
    ),
    "cmp.n_significant": ("Significant differences", "显著差异"),
    "cmp.sig_help": (
        "Paired tests over users at level α = {alpha}.",
        "在 α = {alpha} 水平下对用户做配对检验。",
    ),
    "cmp.delta_title": ("B vs A: relative change per metric", "B 相对 A：各指标的相对变化"),
    "cmp.table": ("All metrics with p-values", "全部指标及 p 值"),
    "cmp.p_ttest": ("p (paired t-test)", "p（配对 t 检验）"),
    "cmp.p_perm": ("p (permutation)", "p（置换检验）"),
    "cmp.delta_x": ("Relative change (%)", "相对变化（%）"),
    "cmp.delta_help": (
        "A = {a}, B = {b}. Green / red: significant gain / loss; grey: not significant.",
        "A = {a}，B = {b}。绿色/红色：显著提升/下降；灰色：不显著。",
    ),
    "cmp.overlap_title": ("How much the lists overlap", "列表重合度分布"),
    "cmp.overlap_x": ("Jaccard overlap", "Jaccard 重合度"),
    "cmp.rel_diff": ("Relative change", "相对变化"),
    "cmp.significant": ("Significant", "显著"),
    "cmp.changed": ("Users whose lists changed most", "列表变化最大的用户"),
    "cmp.list_a": ("List A", "列表 A"),
    "cmp.list_b": ("List B", "列表 B"),
    "cmp.category_shift": ("Category shift", "品类变化"),
    "cmp.category_title": ("Change in category share, B − A", "品类占比变化（B − A）"),
    "cmp.category_x": ("Percentage points", "百分点"),
    # ---------------------------------------------------------------- export
    "ex.title": ("Export", "导出"),
    "ex.intro": (
        "Download the recommendations of the current strategy, audience lists, the preset and a short metrics report.",
        "下载当前策略的推荐结果、目标人群列表、预设方案和简短的指标报告。",
    ),
    "ex.recs": ("Recommendations", "推荐结果"),
    "ex.scope": ("Users", "用户范围"),
    "ex.format": ("Format", "格式"),
    "ex.excel_bom": ("Excel-friendly (BOM)", "兼容 Excel（BOM）"),
    "ex.excel_bom_help": (
        "Adds a byte-order mark so Excel shows Chinese text correctly.",
        "添加 BOM，使 Excel 正确显示中文。",
    ),
    "ex.current_setting": (
        "Current setting: {method} fusion, top-{k}, {n_rules} rule(s). Each row has per-model scores, the serving strategy and provenance (run, preset, time).",
        "当前设置：{method} 融合，前 {k} 名，{n_rules} 条规则。每行包含各模型得分、推荐策略和来源信息（训练结果、预设、时间）。",
    ),
    "ex.prepare": ("Prepare the file for {n:,} users", "为 {n:,} 位用户准备文件"),
    "ex.preparing": ("Preparing…", "准备中……"),
    "ex.preparing_n": ("Preparing {n:,} / {total:,} users…", "正在准备 {n:,} / {total:,} 位用户……"),
    "ex.ready": (
        "{rows:,} rows for {users:,} users, prepared in {s:.1f} s.",
        "共 {rows:,} 行，覆盖 {users:,} 位用户，用时 {s:.1f} 秒。",
    ),
    "ex.download": ("Download {fmt}", "下载 {fmt}"),
    "ex.preview": ("Preview (first 100 rows)", "预览（前 100 行）"),
    "ex.audience": ("Audience list", "目标人群列表"),
    "ex.target_kind": ("Target", "目标类型"),
    "ex.target.item": ("An item", "单个商品"),
    "ex.target.brand": ("A brand", "品牌"),
    "ex.target.category": ("A category", "品类"),
    "ex.target": ("Which", "选择"),
    "ex.audience_size": ("Audience size", "人群规模"),
    "ex.build_audience": ("Build the audience", "生成目标人群"),
    "ex.building": ("Scoring every user…", "正在为所有用户打分……"),
    "ex.audience_ready": (
        "{n:,} users most likely to want {target}.",
        "最可能想要 {target} 的 {n:,} 位用户。",
    ),
    "ex.download_audience": ("Download audience CSV", "下载目标人群 CSV"),
    "ex.preset": ("Preset", "预设方案"),
    "ex.download_preset": ("Download preset JSON", "下载预设 JSON"),
    "ex.preset_preview": ("Show the preset", "查看预设"),
    "ex.report": ("Metrics report", "指标报告"),
    "ex.download_report_md": ("Download report (Markdown)", "下载报告（Markdown）"),
    "ex.download_report_csv": ("Download metrics (CSV)", "下载指标（CSV）"),
    "ex.report_preview": ("Show the report", "查看报告"),
}


def lang() -> str:
    """The current interface language code (``"en"`` or ``"zh"``)."""
    return st.session_state.get("lang", "en")


def t(key: str, **fmt) -> str:
    """Localised string for ``key``, formatted with ``fmt``."""
    pair = STRINGS.get(key)
    if pair is None:
        text = key
    else:
        text = pair[1] if lang() == "zh" and pair[1] else pair[0]
    if fmt:
        try:
            text = text.format(**fmt)
        except (KeyError, IndexError, ValueError):
            pass
    return text
