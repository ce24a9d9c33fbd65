"""Opinions as voters write them, in clusters of one matter each worded differently, plus
unrelated ones that share everyday words with the clusters, over two 街镇 and five stations.
The labels (cluster, station) are the truth the similar-opinions test checks against:
CORPUS chose the threshold, HELD_OUT (new matters, written after) measures it on opinions it
was not chosen on. `seed_corpus` writes the rows straight into the database, as submission
leaves them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import stamp
from tests.support.consultation_seed import add_user
from tests.support.world import SHANGHAI, World

# Two 街镇, five stations: the matches of one street must never come from the other.
STATIONS_CSV = """street,station,address,latitude,longitude
学院路街道,学院路第一联络站,学院路 1 号,39.99,116.35
学院路街道,学院路第二联络站,学院路 20 号,39.995,116.355
学院路街道,五道口联络站,成府路 3 号,39.992,116.338
海淀街道,海淀街道联络站,海淀大街 8 号,39.98,116.31
海淀街道,苏州街联络站,苏州街 12 号,39.975,116.305
"""
FIRST = "学院路第一联络站"
SECOND = "学院路第二联络站"
WUDAOKOU = "五道口联络站"
HAIDIAN = "海淀街道联络站"
SUZHOUJIE = "苏州街联络站"
STREET_OF = {
    FIRST: "学院路街道",
    SECOND: "学院路街道",
    WUDAOKOU: "学院路街道",
    HAIDIAN: "海淀街道",
    SUZHOUJIE: "海淀街道",
}
SUBMITTED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
AUTHOR = 7001  # every corpus opinion's voter (anonymous: nothing here is about them)


@dataclass(frozen=True)
class CorpusOpinion:
    key: str  # unique, e.g. "shelter-1"
    cluster: str | None  # the matter it is about; None: a matter no other opinion shares
    station: str
    category: str
    text: str

    @property
    def street(self) -> str:
        return STREET_OF[self.station]


def _o(key: str, station: str, category: str, text: str) -> CorpusOpinion:
    cluster = key.rsplit("-", 1)[0] if not key.startswith("single-") else None
    return CorpusOpinion(key, cluster, station, category, text)


CORPUS: tuple[CorpusOpinion, ...] = (
    # 公交站台没有遮雨棚
    _o(
        "shelter-1",
        FIRST,
        "traffic",
        "学院路南口公交站没有遮雨棚，一下雨等车的老人孩子全身都淋湿了，希望尽快加装。",
    ),
    _o(
        "shelter-2",
        SECOND,
        "traffic",
        "建议在地铁站旁边的公交车站台装个雨棚，下雨天候车太难受了。",
    ),
    _o(
        "shelter-3",
        WUDAOKOU,
        "urban",
        "五道口公交站连个挡雨的棚子都没有，夏天暴晒冬天下雪，候车的人没地方躲。",
    ),
    _o(
        "shelter-4",
        FIRST,
        "traffic",
        "我们这里的公交站台太简陋，没有顶棚也没有座椅，雨天只能打着伞站在路边等车。",
    ),
    _o("shelter-5", SECOND, "other", "下雨天在公交站等车经常被淋，站台能不能加个遮雨棚？"),
    _o(
        "shelter-6",
        WUDAOKOU,
        "traffic",
        "清华东路西口公交车站没有候车亭，刮风下雨的时候老年人等车非常不方便。",
    ),
    # 小区停车难
    _o(
        "parking-1",
        FIRST,
        "traffic",
        "我们小区车位太少，每天下班回来都找不到地方停车，只能停到外面马路上。",
    ),
    _o(
        "parking-2",
        SECOND,
        "urban",
        "小区停车难问题越来越严重，晚上车都停到消防通道上了，希望规划一些停车位。",
    ),
    _o(
        "parking-3",
        WUDAOKOU,
        "traffic",
        "晚上回家转好几圈都找不到停车位，建议把小区旁边的空地改成停车场。",
    ),
    _o("parking-4", FIRST, "housing", "老小区没有地下车库，私家车越来越多，停车位严重不足。"),
    _o(
        "parking-5",
        SECOND,
        "safety",
        "小区里乱停车，车位不够用，消防通道都被堵死了，物业也不管。",
    ),
    # 广场舞噪音扰民
    _o(
        "dance-1",
        FIRST,
        "environment",
        "小区广场每天晚上跳广场舞，音响开得特别大声，一直到十点多，孩子没法写作业。",
    ),
    _o(
        "dance-2", WUDAOKOU, "environment", "广场舞的音乐声太吵了，严重影响周边居民休息，请管一管。"
    ),
    _o(
        "dance-3",
        SECOND,
        "environment",
        "楼下空地每天早上六点就有人放音乐跳舞，噪音扰民，老人睡不好觉。",
    ),
    _o(
        "dance-4",
        FIRST,
        "culture",
        "公园里跳广场舞的音响声音太大，晚上九点以后还在放，希望规定音量和时间。",
    ),
    _o(
        "dance-5",
        WUDAOKOU,
        "environment",
        "夜里广场舞噪声扰民问题反映多次都没解决，希望有关部门出面协调。",
    ),
    # 垃圾分类桶不够
    _o(
        "bins-1",
        FIRST,
        "environment",
        "小区垃圾分类桶太少，厨余垃圾桶经常满了溢出来，味道很大。",
    ),
    _o(
        "bins-2",
        SECOND,
        "environment",
        "垃圾分类投放点只有一个，离我们楼太远，而且垃圾桶不够用，建议多设几个。",
    ),
    _o(
        "bins-3",
        WUDAOKOU,
        "environment",
        "我们楼下的分类垃圾桶经常满出来没人及时清运，夏天招苍蝇。",
    ),
    _o(
        "bins-4",
        FIRST,
        "urban",
        "建议增加垃圾桶数量，现在的可回收物和其他垃圾桶根本装不下。",
    ),
    # 路灯不亮
    _o(
        "lights-1",
        FIRST,
        "safety",
        "学院路辅路的路灯坏了一个多月了，晚上黑乎乎的，走路很不安全。",
    ),
    _o("lights-2", SECOND, "safety", "小区门口那条路晚上没有路灯，老人孩子出门容易摔倒。"),
    _o(
        "lights-3",
        WUDAOKOU,
        "urban",
        "附近好几盏路灯都不亮，晚上下班回家心里害怕，希望尽快维修。",
    ),
    _o(
        "lights-4",
        FIRST,
        "safety",
        "北门外的照明太差，路灯经常不亮，夜间行人和骑车的人都看不清路。",
    ),
    # 老旧小区加装电梯
    _o(
        "elevator-1",
        FIRST,
        "elderly",
        "我们是八十年代的老楼，没有电梯，老人上下楼太困难，希望加装电梯。",
    ),
    _o(
        "elevator-2",
        SECOND,
        "housing",
        "老旧小区加装电梯的政策什么时候能落实到我们小区？住六楼的老人已经好几年没下楼了。",
    ),
    _o(
        "elevator-3",
        WUDAOKOU,
        "elderly",
        "住在五楼，腿脚不好，每天爬楼梯很吃力，盼望老楼能装上电梯。",
    ),
    _o(
        "elevator-4",
        FIRST,
        "housing",
        "加装电梯居民意见不统一，一楼住户反对，希望街道出面协调推动。",
    ),
    # 共享单车乱停放
    _o(
        "bikes-1",
        SECOND,
        "traffic",
        "地铁站出口共享单车乱停乱放，把盲道和人行道都堵住了。",
    ),
    _o("bikes-2", FIRST, "urban", "共享单车堆在小区门口，进出很不方便，希望企业及时清理。"),
    _o("bikes-3", WUDAOKOU, "traffic", "路边的单车越来越多，横七竖八地摆着，行人都没法走。"),
    _o(
        "bikes-4",
        SECOND,
        "traffic",
        "建议在地铁口划定共享单车停放区，安排人员管理单车摆放秩序。",
    ),
    # matters nobody else raised; many share everyday words with the clusters above
    _o(
        "single-clinic",
        FIRST,
        "elderly",
        "社区医院挂号难，老年人不会用手机预约，希望保留现场挂号窗口。",
    ),
    _o("single-market", SECOND, "urban", "小区附近缺少菜市场，买菜要坐两站公交车，很不方便。"),
    _o("single-canteen", WUDAOKOU, "elderly", "希望社区食堂开设老年助餐服务，价格实惠一些。"),
    _o(
        "single-school",
        FIRST,
        "education",
        "学校门口上下学时段交通拥堵，建议增加交警疏导。",
    ),
    _o("single-green", SECOND, "environment", "小区绿化带被人占用种菜，黄土裸露，影响环境。"),
    _o(
        "single-clutter",
        WUDAOKOU,
        "safety",
        "楼道里堆放杂物，存在消防隐患，希望物业尽快清理。",
    ),
    _o(
        "single-charging",
        FIRST,
        "safety",
        "电动自行车在楼道里充电很危险，希望小区建设集中充电桩。",
    ),
    _o(
        "single-fitness",
        SECOND,
        "culture",
        "小区健身器材老化损坏，存在安全隐患，希望更换新的器材。",
    ),
    _o(
        "single-heating",
        WUDAOKOU,
        "housing",
        "暖气不热，室内温度只有十四度，供暖公司一直不来处理。",
    ),
    _o("single-water", FIRST, "housing", "自来水有时发黄，担心水质有问题，希望检测一下。"),
    _o(
        "single-construction",
        SECOND,
        "environment",
        "附近工地夜间施工，机器轰鸣，半夜都停不下来，影响休息。",
    ),
    _o(
        "single-playground",
        WUDAOKOU,
        "education",
        "社区缺少儿童游乐设施，孩子放学后没地方玩。",
    ),
    _o(
        "single-shuttle",
        FIRST,
        "traffic",
        "希望开通到地铁站的社区微循环公交，方便居民出行。",
    ),
    _o("single-gate", SECOND, "safety", "小区门禁系统经常坏，外来人员随意进出。"),
    _o("single-river", WUDAOKOU, "environment", "河道里有垃圾漂浮，夏天散发异味。"),
    _o(
        "single-bathing",
        FIRST,
        "elderly",
        "养老驿站服务项目太少，希望增加上门助浴服务。",
    ),
    _o(
        "single-potholes",
        SECOND,
        "traffic",
        "路面坑洼不平，下雨积水严重，骑车经过容易摔。",
    ),
    _o("single-broadband", WUDAOKOU, "other", "社区宽带网速太慢，希望引入更多运营商。"),
    _o(
        "single-phones",
        FIRST,
        "elderly",
        "希望在社区开设老年人智能手机培训班，教大家用健康码和移动支付。",
    ),
    _o("single-cats", SECOND, "environment", "流浪猫太多，夜里叫声不断，还翻垃圾。"),
    _o(
        "single-fees",
        WUDAOKOU,
        "housing",
        "小区物业费上涨不合理，服务质量却没有提高。",
    ),
    _o(
        "single-culture",
        FIRST,
        "culture",
        "希望街道多组织一些文化活动，丰富居民业余生活。",
    ),
    # the other 街镇: the same matters, which must never come for 学院路's opinions
    _o(
        "parking-h1",
        HAIDIAN,
        "traffic",
        "海淀大街附近小区停车位太少，晚上回来停车特别难。",
    ),
    _o("parking-h2", SUZHOUJIE, "traffic", "小区车位严重不足，很多车只能停在路边。"),
    _o("shelter-h1", SUZHOUJIE, "traffic", "苏州街公交站没有遮雨棚，下雨天等车全淋湿。"),
    _o("dance-h1", HAIDIAN, "environment", "广场舞音响太吵，严重影响周边居民休息。"),
    _o("single-h-library", HAIDIAN, "culture", "希望社区图书室延长开放时间，周末也能借书。"),
    _o("single-h-toilet", SUZHOUJIE, "urban", "公园里的公共厕所太少，而且卫生条件差。"),
)
# Held out: written after the threshold was chosen on CORPUS and never used to tune it, new
# matters in the same streets (and unrelated opinions), so its precision and recall say how
# the threshold does on opinions it has not seen (tests/test_similar_opinions.py).
HELD_OUT: tuple[CorpusOpinion, ...] = (
    # 文明养犬
    _o("dogs-1", FIRST, "safety", "小区里很多人遛狗不拴绳，大狗到处跑，孩子都不敢下楼玩。"),
    _o(
        "dogs-2",
        SECOND,
        "environment",
        "养狗的人不清理狗粪，楼下草坪和人行道上到处都是，踩一脚很恶心。",
    ),
    _o(
        "dogs-3",
        WUDAOKOU,
        "safety",
        "晚上遛狗的不牵绳子，昨天我家老人被狗扑倒了，希望管管文明养犬。",
    ),
    _o("dogs-4", FIRST, "other", "文明养犬宣传太少，烈性犬在小区里随意走动，没有人管。"),
    # 地铁口黑车
    _o("cabs-1", WUDAOKOU, "traffic", "五道口地铁站外面黑车拉客特别多，占着公交车道揽活。"),
    _o("cabs-2", SECOND, "traffic", "地铁口摩的和黑出租扎堆，乱喊价还不安全，建议整治。"),
    _o("cabs-3", FIRST, "safety", "晚上下地铁总有人围上来问打不打车，都是没有牌照的黑车。"),
    # 公园厕所
    _o("toilets-1", FIRST, "urban", "公园里只有一个厕所，周末人多排长队，而且很脏。"),
    _o("toilets-2", SECOND, "urban", "附近公园公厕太少，老人孩子上厕所要走很远。"),
    _o("toilets-3", WUDAOKOU, "urban", "学院路公园的公共卫生间经常锁门，游客找不到地方方便。"),
    # 外卖电动车
    _o("riders-1", FIRST, "traffic", "外卖电动车在人行道上骑得飞快，好几次差点撞到行人。"),
    _o("riders-2", SECOND, "safety", "快递和外卖的电动车经常逆行闯红灯，路口特别危险。"),
    _o("riders-3", WUDAOKOU, "safety", "送外卖的电瓶车在小区里横冲直撞，希望限速。"),
    # the other 街镇: 酒吧扰民
    _o("bars-h1", HAIDIAN, "environment", "海淀大街上的酒吧半夜还在放音乐，吵得睡不着。"),
    _o("bars-h2", SUZHOUJIE, "environment", "楼下酒吧营业到凌晨两三点，醉酒的人大声喧哗。"),
    # matters nobody else raised
    _o("single-chess", FIRST, "elderly", "社区老年活动中心太小，下棋打牌都没地方坐。"),
    _o(
        "single-childcare",
        SECOND,
        "education",
        "希望社区开设周末儿童托管班，双职工家庭接孩子不方便。",
    ),
    _o("single-hydrant", WUDAOKOU, "safety", "小区的消防栓被圈在商铺里面，出了火灾根本用不上。"),
    _o("single-heater", FIRST, "housing", "楼顶的太阳能热水器支架生锈了，刮大风怕掉下来砸人。"),
    _o("single-crossing", SECOND, "traffic", "路口的红绿灯时间太短，老人走不到一半就变红灯了。"),
    _o("single-repair", WUDAOKOU, "urban", "希望在学院路增设一个便民修车点，自行车坏了没处修。"),
)
BY_KEY = {o.key: o for o in (*CORPUS, *HELD_OUT)}


def expected_mates(key: str, among: tuple[CorpusOpinion, ...] = CORPUS) -> set[str]:
    """The opinions `key` should find among `among`: the same matter in the same 街镇,
    itself excluded."""
    me = BY_KEY[key]
    if me.cluster is None:
        return set()
    return {
        o.key for o in among if o.key != key and o.cluster == me.cluster and o.street == me.street
    }


async def seed_corpus(world: World, opinions: tuple[CorpusOpinion, ...] = CORPUS) -> dict[str, int]:
    """Every one of `opinions` as a submitted opinion of its station (the stations of
    STATIONS_CSV must be loaded); returns key → opinion id."""
    await add_user(world, AUTHOR, station_id=None)
    stations = {
        row["name"]: int(row["id"]) for row in await world.rows("SELECT id, name FROM stations")
    }
    ids: dict[str, int] = {}
    async with world.db.transaction() as tx:
        for n, o in enumerate(opinions, start=1):
            at = stamp(SUBMITTED_AT + timedelta(minutes=n))
            ids[o.key] = await tx.execute(
                "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, photos,"
                " show_name, status, created_at, updated_at, unclaimed_since)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, 'submitted', ?, ?, ?)",
                (
                    f"HD-2026-{n:06d}",
                    AUTHOR,
                    stations[o.station],
                    o.category,
                    o.text,
                    json.dumps([]),
                    at,
                    at,
                    at,
                ),
            )
    return ids
